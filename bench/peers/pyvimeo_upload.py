"""One upload with PyVimeo 1.1.2 (``vimeo``), as a user would write it; prints JSON.

Runs in the peers' venv (``bench/.venv-peers``). ``VimeoClient(token=...)`` with ``API_ROOT`` pointed at
the emulator's Vimeo front door, then ``client.upload(path, data={"name": ..., "chunk_size": ...})``:
``POST /me/videos`` (``upload.approach: tus``), then tuspy (``retries=3``) PATCHes the ``upload_link``,
reading each chunk whole. PyVimeo keeps no state between runs: a second run is a new video.

Output: ``{"seconds", "cpu_seconds", "peak_rss_mib", "media_id", "uri"}`` (``--idle``: the peak RSS only,
after importing PyVimeo).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import vimeo


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
    parser.add_argument("--api-root", help="the Vimeo API base, e.g. http://127.0.0.1:PORT/vimeo")
    parser.add_argument("--token", default="vimeo-token")
    parser.add_argument("--chunk-size", type=int, default=200 * 1024 * 1024, help="PyVimeo's default: 200 MB")
    parser.add_argument("--idle", action="store_true", help="import PyVimeo, upload nothing")
    args = parser.parse_args()
    out: dict[str, object] = {}
    if not args.idle:
        client = vimeo.VimeoClient(token=args.token)
        client.API_ROOT = args.api_root
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        uri = client.upload(args.path, data={"name": os.path.basename(args.path), "chunk_size": args.chunk_size})
        out["seconds"] = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        out["cpu_seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        out["uri"] = uri
        out["media_id"] = uri.rsplit("/", 1)[-1]
    out["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
