"""cffi builder for the GnuTLS backend: one cdef module per header, composed in build.py."""
