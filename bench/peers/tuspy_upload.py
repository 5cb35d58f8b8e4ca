"""One upload with tuspy 1.1.0 (``tusclient``), as a user would write it; prints JSON.

Runs in the peers' venv (``bench/.venv-peers``). ``TusClient(endpoint).uploader(file_path=...,
chunk_size=..., metadata=...)`` then ``upload()``; metadata is always given (without it tuspy sends an
empty ``Upload-Metadata``, which @tus/server refuses). ``--state FILE`` keeps the upload URL in tuspy's
own ``FileStorage`` (``store_url=True``), so a second run after a kill resumes it (HEAD, then the rest).

Output: ``{"seconds", "cpu_seconds", "peak_rss_mib", "media_id", "url"}`` (``--idle``: the peak RSS only,
after importing tuspy).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from tusclient.client import TusClient
from tusclient.storage.filestorage import FileStorage


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss would start at the spawning parent's RSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?")
    parser.add_argument("--endpoint", help="the tus creation URL, e.g. http://127.0.0.1:PORT/files/")
    parser.add_argument("--chunk-size", type=int, default=8 * 1024 * 1024)
    parser.add_argument("--media-type", default="video/mp4")
    parser.add_argument("--state", help="tuspy's URL storage (a TinyDB JSON file): resume a killed upload")
    parser.add_argument("--idle", action="store_true", help="import tuspy, upload nothing")
    args = parser.parse_args()
    out: dict[str, object] = {}
    if not args.idle:
        storage = {"store_url": True, "url_storage": FileStorage(args.state)} if args.state else {}
        uploader = TusClient(args.endpoint).uploader(
            file_path=args.path, chunk_size=args.chunk_size,
            metadata={"filename": os.path.basename(args.path), "filetype": args.media_type}, **storage)
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        uploader.upload()
        out["seconds"] = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        out["cpu_seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        out["url"] = uploader.url
        out["media_id"] = uploader.url.rstrip("/").rsplit("/", 1)[-1]
    out["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
