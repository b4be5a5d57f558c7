/* Deliberate memory and undefined-behaviour errors, for one purpose: proving
 * that the sanitizers are live in `nox -s sanitizers` (tests/sanitizer/).
 * Built by that session with the same flags as the backends; never shipped. */

#include <stdlib.h>
#include <string.h>

/* Reads one byte past the end of a heap block of `size` bytes. */
int tlsapi_probe_read_past_end(int size)
{
    /* volatile: the compiler may neither fold the read nor drop it. */
    unsigned char *volatile block = malloc((size_t)size);
    int value;

    if (block == NULL)
        return -1;
    memset(block, 0x5a, (size_t)size);
    value = block[size];
    free(block);
    return value;
}

/* Signed addition: overflows (undefined behaviour) for INT_MAX + 1. */
int tlsapi_probe_add(int a, int b)
{
    return a + b;
}
