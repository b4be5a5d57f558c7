"""cdef modules for the NSS backend, one per C header (composed by build.py)."""
