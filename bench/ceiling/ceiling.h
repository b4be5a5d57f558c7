/* What the ceiling programs (gnutls_ceiling.c, nss_ceiling.c, openssl_ceiling.c)
 * share: the in-memory pipe between the two ends, the clocks, the command line,
 * the timed steps (handshake, bulk, echo: each program supplies its pair of
 * ends as a ceiling_library) and the JSON line they print.
 *
 * The clocks are those of tlsapi's benchmark (tlsapi/_bench/_subject.py):
 * a rate is units of work per second of this thread's CPU time, and a
 * sample stops on the wall clock, so other load on a shared machine neither
 * lowers a figure nor stretches a run.  Each figure is the best of --rounds
 * samples of --duration seconds, as the Python benchmark takes its own.
 */
#ifndef TLSAPI_CEILING_H
#define TLSAPI_CEILING_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The benchmark's work sizes (tlsapi/_bench/_subject.py: PAYLOAD_SIZE, ECHO_SIZE). */
#define CEILING_PAYLOAD (1 << 20)
#define CEILING_ECHO 64
/* The Python bulk loop reads into a 64 KiB bytearray; so does ours. */
#define CEILING_SINK 65536

/* One direction of ciphertext: what one end wrote and the other has not read. */
typedef struct {
    unsigned char *data;
    size_t start; /* first unread byte */
    size_t end;   /* one past the last written byte */
    size_t cap;
} ceiling_pipe;

static inline int ceiling_pipe_write(ceiling_pipe *pipe, const void *data, size_t size)
{
    if (size == 0)
        return 0;
    if (pipe->start == pipe->end)
        pipe->start = pipe->end = 0; /* all read: start again at the front */
    if (pipe->end + size > pipe->cap) {
        size_t pending = pipe->end - pipe->start;
        if (pipe->start > 0) {
            memmove(pipe->data, pipe->data + pipe->start, pending);
            pipe->start = 0;
            pipe->end = pending;
        }
        if (pending + size > pipe->cap) {
            size_t cap = pipe->cap ? pipe->cap : 4096;
            unsigned char *grown;
            while (cap < pending + size)
                cap *= 2;
            grown = realloc(pipe->data, cap);
            if (grown == NULL)
                return -1;
            pipe->data = grown;
            pipe->cap = cap;
        }
    }
    memcpy(pipe->data + pipe->end, data, size);
    pipe->end += size;
    return 0;
}

/* Up to `size` bytes; 0 when nothing is pending (the caller answers "would block"). */
static inline size_t ceiling_pipe_read(ceiling_pipe *pipe, void *data, size_t size)
{
    size_t count = pipe->end - pipe->start;
    if (count > size)
        count = size;
    if (count == 0)
        return 0; /* memcpy must not see the NULL of a pipe never written to */
    memcpy(data, pipe->data + pipe->start, count);
    pipe->start += count;
    return count;
}

static inline void ceiling_pipe_free(ceiling_pipe *pipe)
{
    free(pipe->data);
    memset(pipe, 0, sizeof(*pipe));
}

static inline double ceiling_clock(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Call `step` (units of work done, or < 0 on failure) for `duration` seconds of
   wall clock; units per second of thread CPU time, or -1 on failure. */
static inline double ceiling_timed(long (*step)(void *), void *arg, double duration)
{
    double cpu_start = ceiling_clock(CLOCK_THREAD_CPUTIME_ID);
    double deadline = ceiling_clock(CLOCK_MONOTONIC) + duration;
    long done = 0;
    for (;;) {
        long units = step(arg);
        if (units < 0)
            return -1.0;
        done += units;
        if (ceiling_clock(CLOCK_MONOTONIC) >= deadline) {
            double spent = ceiling_clock(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
            return (double)done / (spent > 1e-9 ? spent : 1e-9);
        }
    }
}

typedef struct {
    const char *ca;    /* the root the client trusts (PEM) */
    const char *chain; /* the server's chain, leaf first (PEM) */
    const char *key;   /* the server's key (PKCS#8 PEM) */
    const char *host;  /* the name the client verifies */
    const char *group; /* "default" (the library's choice), "P-256" or "X25519" */
    double duration;   /* seconds per sample */
    int rounds;        /* samples per figure; the best is printed */
    int skip_bulk;     /* only handshakes and echo, for a check of the verification */
} ceiling_options;

static inline int ceiling_usage(const char *program)
{
    fprintf(stderr,
            "usage: %s --ca ROOT.pem --chain CHAIN.pem --key KEY.pem [--host NAME]\n"
            "          [--group default|P-256|X25519] [--duration SECONDS] [--rounds N]\n"
            "Prints one JSON line: handshakes_per_s, bulk_mb_per_s, echo_round_trips_per_s.\n",
            program);
    return 2;
}

/* 0, or the exit status for a bad command line (after a message). */
static inline int ceiling_parse(int argc, char **argv, ceiling_options *options)
{
    int i;
    options->ca = options->chain = options->key = NULL;
    options->host = "localhost";
    options->group = "default";
    options->duration = 0.3;
    options->rounds = 1;
    options->skip_bulk = 0;
    for (i = 1; i < argc; i++) {
        const char *name = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(name, "--skip-bulk") == 0) {
            options->skip_bulk = 1;
            continue;
        }
        if (value == NULL)
            return ceiling_usage(argv[0]);
        i++;
        if (strcmp(name, "--ca") == 0)
            options->ca = value;
        else if (strcmp(name, "--chain") == 0)
            options->chain = value;
        else if (strcmp(name, "--key") == 0)
            options->key = value;
        else if (strcmp(name, "--host") == 0)
            options->host = value;
        else if (strcmp(name, "--group") == 0)
            options->group = value;
        else if (strcmp(name, "--duration") == 0)
            options->duration = strtod(value, NULL);
        else if (strcmp(name, "--rounds") == 0)
            options->rounds = atoi(value);
        else
            return ceiling_usage(argv[0]);
    }
    if (options->ca == NULL || options->chain == NULL || options->key == NULL ||
        !(options->duration > 0) || options->rounds < 1)
        return ceiling_usage(argv[0]);
    if (strcmp(options->group, "default") != 0 && strcmp(options->group, "P-256") != 0 &&
        strcmp(options->group, "X25519") != 0) {
        fprintf(stderr, "%s: --group must be default, P-256 or X25519\n", argv[0]);
        return 2;
    }
    return 0;
}

/* A whole file, NUL-terminated (PEM parsers want a string); NULL after a message. */
static inline char *ceiling_read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    char *data = NULL;
    long length;
    if (file == NULL) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (fseek(file, 0, SEEK_END) == 0 && (length = ftell(file)) >= 0 &&
        fseek(file, 0, SEEK_SET) == 0 && (data = malloc((size_t)length + 1)) != NULL &&
        fread(data, 1, (size_t)length, file) == (size_t)length) {
        data[length] = '\0';
        *size = (size_t)length;
    } else {
        fprintf(stderr, "cannot read %s\n", path);
        free(data);
        data = NULL;
    }
    fclose(file);
    return data;
}

typedef struct {
    const char *program;
    const char *library;
    const char *cipher;
    const char *group;
    int verified;
    double handshakes, bulk_bytes, echoes; /* best rates; < 0: not measured */
} ceiling_result;

static inline void ceiling_print(const ceiling_result *r, const ceiling_options *options)
{
    printf("{\"program\": \"%s\", \"library\": \"%s\", \"version\": \"TLSv1.3\", "
           "\"cipher\": \"%s\", \"group\": \"%s\", \"verified\": %s, "
           "\"rounds\": %d, \"duration_s\": %g, \"clock\": \"thread CPU time\", "
           "\"write_size\": %d, \"echo_size\": %d, ",
           r->program, r->library, r->cipher, r->group, r->verified ? "true" : "false",
           options->rounds, options->duration, CEILING_PAYLOAD, CEILING_ECHO);
    printf("\"handshakes_per_s\": %.3f, ", r->handshakes);
    if (r->bulk_bytes >= 0)
        printf("\"bulk_mb_per_s\": %.3f, ", r->bulk_bytes / 1e6);
    else
        printf("\"bulk_mb_per_s\": null, ");
    printf("\"echo_round_trips_per_s\": %.3f}\n", r->echoes);
    fflush(stdout);
}

static inline double ceiling_max(double a, double b)
{
    return a > b ? a : b;
}

/* What a program gives the shared steps: its pair of connected ends, over its library. */
typedef struct {
    size_t pair_size;             /* sizeof the program's pair */
    int (*open_pair)(void *pair); /* a handshaken pair, or -1 (after a message) */
    void (*close_pair)(void *pair);
    /* All of `data` written by one end (`server`: the server's), or -1. */
    int (*send_all)(void *pair, int server, const unsigned char *data, size_t size);
    /* Exactly `wanted` bytes read by one end, `capacity` at most per read (into
       `buffer` at its start, or filling it when capacity == wanted), or -1. */
    int (*receive_exactly)(void *pair, int server, unsigned char *buffer, size_t capacity,
                           size_t wanted);
} ceiling_library;

/* A handshake between the two ends of `pair`: `step` (0, or -1 after a message)
   runs one end's next step (`server`: the server's; `*done` set once it
   finished, a done end's step does nothing), the client's then the server's,
   until both are done.  0, or -1 after a message. */
static inline int ceiling_handshake(void *pair, int (*step)(void *pair, int server, int *done),
                                    const char *program)
{
    int client_done = 0, server_done = 0, round;
    for (round = 0; round < 100 && !(client_done && server_done); round++) {
        if (step(pair, 0, &client_done) < 0 || step(pair, 1, &server_done) < 0)
            return -1;
    }
    if (!(client_done && server_done)) {
        fprintf(stderr, "%s: the in-memory handshake did not finish\n", program);
        return -1;
    }
    return 0;
}

/* The steps every program times, on the library given to ceiling_measure. */
static const ceiling_library *ceiling_lib;
static unsigned char ceiling_payload[CEILING_PAYLOAD]; /* zeros, as the Python bulk payload */
static unsigned char ceiling_sink[CEILING_SINK];

/* One handshake: a pair made and freed (the pair's storage is `arg`). */
static inline long ceiling_handshake_once(void *arg)
{
    if (ceiling_lib->open_pair(arg) < 0)
        return -1;
    ceiling_lib->close_pair(arg);
    return 1;
}

/* 1 MiB written by the client, read by the server into a 64 KiB buffer. */
static inline long ceiling_bulk_once(void *pair)
{
    if (ceiling_lib->send_all(pair, 0, ceiling_payload, CEILING_PAYLOAD) < 0 ||
        ceiling_lib->receive_exactly(pair, 1, ceiling_sink, CEILING_SINK, CEILING_PAYLOAD) < 0)
        return -1;
    return CEILING_PAYLOAD;
}

/* 64 bytes client -> server -> client. */
static inline long ceiling_echo_once(void *pair)
{
    unsigned char message[CEILING_ECHO], server_buffer[CEILING_ECHO], client_buffer[CEILING_ECHO];
    memset(message, 'x', sizeof(message));
    if (ceiling_lib->send_all(pair, 0, message, CEILING_ECHO) < 0 ||
        ceiling_lib->receive_exactly(pair, 1, server_buffer, CEILING_ECHO, CEILING_ECHO) < 0 ||
        ceiling_lib->send_all(pair, 1, server_buffer, CEILING_ECHO) < 0 ||
        ceiling_lib->receive_exactly(pair, 0, client_buffer, CEILING_ECHO, CEILING_ECHO) < 0)
        return -1;
    return 1;
}

/* One sample of a workload on a connection of its own, made outside the timed part. */
static inline double ceiling_on_a_pair(void *pair, long (*step)(void *), double duration)
{
    double rate;
    if (ceiling_lib->open_pair(pair) < 0)
        return -1.0;
    rate = ceiling_timed(step, pair, duration);
    ceiling_lib->close_pair(pair);
    return rate;
}

/* The measurement every program makes: a short warm-up (first-use allocations
   and lazy set-up are not timed), then the best of options->rounds rounds of
   each figure into r.  0, or -1 when a step failed. */
static inline int ceiling_measure(ceiling_result *r, const ceiling_options *options,
                                  const ceiling_library *library)
{
    int round, status = 0;
    void *pair = calloc(1, library->pair_size);
    if (pair == NULL) {
        fprintf(stderr, "no memory for a pair\n");
        return -1;
    }
    ceiling_lib = library;
    r->handshakes = r->echoes = 0;
    r->bulk_bytes = options->skip_bulk ? -1.0 : 0;
    if (ceiling_timed(ceiling_handshake_once, pair, 0.02) < 0 ||
        ceiling_on_a_pair(pair, ceiling_echo_once, 0.02) < 0)
        status = -1;
    for (round = 0; status == 0 && round < options->rounds; round++) {
        double handshakes = ceiling_timed(ceiling_handshake_once, pair, options->duration);
        double bulk = options->skip_bulk ? 0
                                         : ceiling_on_a_pair(pair, ceiling_bulk_once, options->duration);
        double echoes = ceiling_on_a_pair(pair, ceiling_echo_once, options->duration);
        if (handshakes < 0 || bulk < 0 || echoes < 0) {
            status = -1;
            break;
        }
        r->handshakes = ceiling_max(r->handshakes, handshakes);
        if (!options->skip_bulk)
            r->bulk_bytes = ceiling_max(r->bulk_bytes, bulk);
        r->echoes = ceiling_max(r->echoes, echoes);
    }
    free(pair);
    return status;
}

#endif
