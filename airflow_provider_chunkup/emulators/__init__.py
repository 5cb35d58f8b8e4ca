"""Local emulators of media upload APIs (X v2 and v1.1, api.video, SelfCommunity / django-chunked-upload),
on loopback for tests and demos; for X also what follows an upload (posts, alt text, subtitles).

In-process::

    with EmulatorServer() as server:          # 127.0.0.1, free port, temp data dir
        server.url                            # "http://127.0.0.1:PORT"
        server.config.x.processing_seconds = 0  # live: the next request sees it
        server.config.apivideo.min_chunk_bytes = 1024
        server.config.content_range.success_status = 200  # stock django-chunked-upload

As a process: ``chunkup-emulator --port 0 --port-file PATH`` (or ``python -m
airflow_provider_chunkup.emulators``), which prints ``chunkup-emulator listening on URL``.

Control endpoints (no auth; not part of any real API):

- ``GET /_emulator/health``; ``GET|PATCH /_emulator/config`` (JSON merge patch);
  ``POST /_emulator/reset`` (startup config and fault rules; no uploads, stats or rate-limit windows)
- ``GET /_emulator/stats``, ``POST /_emulator/stats/reset``: requests, body bytes, statuses per route
- ``GET|POST|DELETE /_emulator/faults``: inject errors, 429 bursts, dropped connections (also
  mid-body), delays, at a seeded rate; presets such as ``{"preset": "chunks:0.1", "seed": 7}``
  (CLI: ``--faults chunks:0.1 --fault-seed 7``; Python: ``EmulatorServer(faults=[...], fault_seed=7)``)
- ``GET /_emulator/x/media[/{id}]`` (with ``alt_text`` and ``subtitles``); ``POST /_emulator/x/media/{id}/expire``;
  ``POST /_emulator/x/media/{id}/processing`` ``{"outcome": "failed", "error": {...}}``;
  ``GET /_emulator/x/posts[/{id}]``: posts as stored (``POST /2/tweets``), newest first
- ``GET /_emulator/apivideo/videos[/{videoId}]``; ``POST /_emulator/apivideo/videos/{videoId}/encoding``
  ``{"outcome": "failed"|"encoded"}``; ``POST /_emulator/apivideo/tokens/expire`` (every access
  token); asset URLs ``/_emulator/apivideo/vod/{videoId}/hls/manifest.m3u8`` (202 until playable)
  and ``.../mp4/source.mp4`` (the uploaded bytes)
- ``GET /_emulator/content-range/uploads[/{upload_id}]``; ``POST /_emulator/content-range/uploads/{upload_id}/expire``;
  ``GET /_emulator/content-range/media/{id}`` and ``.../file`` (the uploaded bytes)

Nothing here imports Airflow.
"""

from .apivideo import ApiVideoEmulatorConfig
from .config import EmulatorConfig
from .content_range import ContentRangeEmulatorConfig
from .server import EmulatorServer
from .x import XEmulatorConfig

__all__ = [
    "ApiVideoEmulatorConfig",
    "ContentRangeEmulatorConfig",
    "EmulatorConfig",
    "EmulatorServer",
    "XEmulatorConfig",
]
