"""cdef modules of the SChannel backend, one per Windows header (composed by ``build.py``)."""
