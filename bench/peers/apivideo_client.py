"""One upload with api.video's official Python client (``api.video`` on PyPI), the way its README shows.

    bench/.venv-peers/bin/python bench/peers/apivideo_client.py URL API_KEY FILE CHUNK_BYTES [TITLE]

Runs in the peers' venv, never chunkup's. The client only knows api.video's two hosts
(``AuthenticatedApiClient`` sets production's in its constructor), so the host is set on its
``Configuration`` afterwards, as a user pointing it at a proxy or mock would; ``chunk_size`` is the
client's own setting (5 to 128 MiB, 50 MiB by default). ``FILE`` ``-`` only imports the client
(idle RSS). Prints one JSON line: seconds (auth, create, upload), CPU seconds, peak RSS, video id.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

import apivideo
from apivideo.api.videos_api import VideosApi
from apivideo.configuration import Configuration
from apivideo.model.video_creation_payload import VideoCreationPayload


def peak_rss_mib() -> float:
    """VmHWM: ``ru_maxrss`` of a process Python spawned starts at its parent's high-water mark."""
    with open("/proc/self/status") as status:
        hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")]
    return int(hwm[0]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def upload(url: str, key: str, path: str, chunk: int, title: str) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    client = apivideo.AuthenticatedApiClient(key, configuration=Configuration(chunk_size=chunk))
    client.configuration.host = url
    with client:  # authenticates (POST /auth/api-key) and starts the token refresher
        videos = VideosApi(client)
        video = videos.create(VideoCreationPayload(title=title))
        with open(path, "rb") as file:
            uploaded = videos.upload(video["video_id"], file)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds, "media_id": uploaded["video_id"],
        "cpu_seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
    }


def main() -> int:
    url, key, path, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    out = {} if path == "-" else upload(url, key, path, chunk, sys.argv[5] if len(sys.argv) > 5 else "bench")
    print(json.dumps({**out, "peak_rss_mib": peak_rss_mib()}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
