"""The benchmark's results as plain data (JSON-ready); the CLI renders the table."""

from __future__ import annotations

import platform
import ssl
from typing import Any

from .._version import __version__
from ._asyncio import REQUEST, RESPONSE
from ._runner import ALL_METRICS, BenchRun
from ._subject import CLOCK_NAME, ECHO_SIZE, PAYLOAD_SIZE

__all__ = ["as_json"]


def _environment() -> dict[str, Any]:
    return {
        "tlsapi_version": __version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "ssl_module_library": ssl.OPENSSL_VERSION,
    }


def as_json(run: BenchRun) -> dict[str, Any]:
    settings = run.settings
    return {
        **_environment(),
        "settings": {
            "quick": settings.quick,
            "rounds": settings.rounds,
            "duration_s": settings.duration,
            "socket_bytes": settings.socket_bytes,
            "memory_connections": settings.memory_connections,
            "write_size": PAYLOAD_SIZE,
            "echo_size": ECHO_SIZE,
            "asyncio_request_size": len(REQUEST),
            "asyncio_response_size": len(RESPONSE),
            "tls_version": "TLSv1.3",
            "key_type": "ECDSA P-256",
            "groups": "each library's defaults; handshakes_x25519_per_s: X25519 on both ends",
            "statistic": "best of the rounds",
            "clock": {"in_memory": CLOCK_NAME, "loopback": "wall clock", "asyncio": "wall clock"},
            "asyncio": "client and server in one event loop, one keep-alive connection",
            "reference": run.reference,
        },
        "metrics": [
            {"key": m.key, "label": m.label, "unit": m.unit, "higher_is_better": m.higher_is_better}
            for m in ALL_METRICS
        ],
        "subjects": [
            {
                "key": s.key,
                "label": s.label,
                "kind": s.kind,
                "library_version": s.library_version,
                **run.negotiated.get(s.key, {}),
            }
            for s in run.subjects
        ],
        "results": {
            s.key: {
                m.key: {
                    "best": run.results[s.key][m.key].best,
                    "median": run.results[s.key][m.key].median,
                    "samples": run.results[s.key][m.key].samples,
                    "ratio": run.ratio(s.key, m.key),
                    "error": run.results[s.key][m.key].error,
                    "unavailable": run.results[s.key][m.key].unavailable,
                }
                for m in ALL_METRICS
            }
            for s in run.subjects
        },
    }
