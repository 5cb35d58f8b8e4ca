"""Local emulators of media upload APIs (X v2 and v1.1), served on loopback for tests and demos.

In-process::

    with EmulatorServer() as server:          # 127.0.0.1, free port, temp data dir
        server.url                            # "http://127.0.0.1:PORT"
        server.config.x.processing_seconds = 0  # live: the next request sees it

As a process: ``chunkup-emulator --port 0 --port-file PATH`` (or ``python -m
airflow_provider_chunkup.emulators``), which prints ``chunkup-emulator listening on URL``.

Control endpoints (no auth; not part of any real API):

- ``GET /_emulator/health``; ``GET|PATCH /_emulator/config`` (JSON merge patch);
  ``POST /_emulator/reset`` (startup config, no uploads, stats, rate-limit windows or faults)
- ``GET /_emulator/stats``, ``POST /_emulator/stats/reset``: requests, body bytes, statuses per route
- ``GET|POST|DELETE /_emulator/faults``: inject errors, dropped connections, delays
- ``GET /_emulator/x/media[/{id}]``; ``POST /_emulator/x/media/{id}/expire``;
  ``POST /_emulator/x/media/{id}/processing`` ``{"outcome": "failed", "error": {...}}``

Nothing here imports Airflow.
"""

from .config import EmulatorConfig, XEmulatorConfig
from .server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer", "XEmulatorConfig"]
