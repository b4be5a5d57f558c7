"""cdef modules of the Secure Transport backend, one per Security/CoreFoundation header."""
