# The cffi extension built from build_ffi/nss (out-of-line API mode).
from typing import Any

ffi: Any
lib: Any
