"""Key logging in the NSS Key Log Format, for Wireshark and tshark.

One line per secret: ``LABEL <client_random hex> <secret hex>``.  Each line
goes out in one ``write`` to a file opened with O_APPEND, so the lines of
several connections, contexts or processes sharing the file never interleave.
"""

from __future__ import annotations

import os
import threading
import weakref

from ._errors import ConfigurationError

__all__ = ["KeyLogWriter", "check_keylog_path"]

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


def _open(path: str) -> int:
    try:
        return os.open(path, _FLAGS, 0o600)
    except ValueError:  # os.open's "embedded null byte"
        raise ConfigurationError(
            f"keylog_filename {path!r} cannot be opened for appending: it contains a NUL byte"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"keylog_filename {path!r} cannot be opened for appending: {exc.strerror}"
        ) from None


def check_keylog_path(path: str) -> None:
    """ConfigurationError now if ``path`` cannot be opened for appending (it is created)."""
    os.close(_open(path))


class KeyLogWriter:
    """Appends key log lines to one file; safe from any thread and from library callbacks."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd = _open(path)
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, os.close, self._fd)

    @property
    def path(self) -> str:
        return self._path

    def write(self, label: str, client_random: bytes, secret: bytes) -> None:
        """Log one secret, e.g. ``write("CLIENT_TRAFFIC_SECRET_0", random, secret)``."""
        self.write_line(f"{label} {client_random.hex()} {secret.hex()}")

    def write_line(self, line: str) -> None:
        """Log a line the library formatted itself (no trailing newline needed)."""
        data = (line.rstrip("\n") + "\n").encode("ascii")
        with self._lock:
            if self._finalizer.alive:
                os.write(self._fd, data)

    def close(self) -> None:
        with self._lock:
            self._finalizer()
