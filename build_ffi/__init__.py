"""cffi builders for the native backends (one sub-package per backend)."""
