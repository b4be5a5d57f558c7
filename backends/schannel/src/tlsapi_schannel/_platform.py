"""Which Windows this is (``RtlGetVersion``: not lied to by compatibility shims) and whether Wine."""

from __future__ import annotations

from typing import Any, NamedTuple

from ._binding import ffi, lib, once

__all__ = ["WindowsVersion", "describe", "is_wine", "windows_version", "wine_version"]


class WindowsVersion(NamedTuple):
    major: int
    minor: int
    build: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"


def _ntdll_proc(name: bytes, signature: str) -> Any:
    module = lib.GetModuleHandleW("ntdll.dll")
    if module == ffi.NULL:
        return None
    proc = lib.GetProcAddress(module, name)
    if proc == ffi.NULL:
        return None
    return ffi.cast(signature, proc)


def _read_version() -> WindowsVersion:
    rtl_get_version = _ntdll_proc(b"RtlGetVersion", "LONG (*)(RTL_OSVERSIONINFOW *)")
    info = ffi.new("RTL_OSVERSIONINFOW *")
    info.dwOSVersionInfoSize = ffi.sizeof("RTL_OSVERSIONINFOW")
    if rtl_get_version is None or rtl_get_version(info) != 0:
        return WindowsVersion(0, 0, 0)
    return WindowsVersion(info.dwMajorVersion, info.dwMinorVersion, info.dwBuildNumber)


def windows_version() -> WindowsVersion:
    """The real Windows version (major, minor, build); (0, 0, 0) if ntdll will not say."""
    version: WindowsVersion = once("windows_version", _read_version)
    return version


def _read_wine_version() -> str | None:
    get = _ntdll_proc(b"wine_get_version", "const char *(*)(void)")
    if get is None:
        return None
    return str(ffi.string(get()).decode("ascii", "replace"))


def wine_version() -> str | None:
    """Wine's version when this process runs under Wine, else None."""
    version: str | None = once("wine_version", _read_wine_version)
    return version


def is_wine() -> bool:
    return wine_version() is not None


def describe() -> str:
    """``Windows 10.0.19045`` or ``Windows 10.0.19045 (Wine 8.0)``."""
    text = f"Windows {windows_version()}"
    wine = wine_version()
    return f"{text} (Wine {wine})" if wine else text
