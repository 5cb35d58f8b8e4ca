"""One upload with tweepy's ``API.chunked_upload`` (X API v1.1), as a user would write it; prints JSON.

Runs in the peers' venv (``bench/.venv-peers``), pointed at the emulator by tweepy's own ``upload_host``;
tweepy always speaks https, so the caller sets ``REQUESTS_CA_BUNDLE`` to the emulator's certificate.
Output: ``{"seconds", "cpu_seconds", "peak_rss_mib", "media_id"}`` (``--idle``: the peak RSS only, after
importing tweepy).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import tweepy

# The emulator's OAuth 1.0a credentials.
CONSUMER = ("chunkup-consumer-key", "chunkup-consumer-secret")
ACCESS = ("chunkup-access-token", "chunkup-access-token-secret")


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
    parser.add_argument("--upload-host", help="host:port of the emulator")
    parser.add_argument("--chunk-size", type=int, default=4 * 1024 * 1024)
    parser.add_argument("--media-type", default="video/mp4")
    parser.add_argument("--media-category", default="amplify_video")
    parser.add_argument("--idle", action="store_true", help="import tweepy, upload nothing")
    args = parser.parse_args()
    out: dict[str, object] = {}
    if not args.idle:
        api = tweepy.API(tweepy.OAuth1UserHandler(*CONSUMER, *ACCESS), upload_host=args.upload_host)
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        # chunkup's upload() returns at FINALIZE too (the processing state in its result): no STATUS polling.
        media = api.chunked_upload(args.path, file_type=args.media_type, media_category=args.media_category,
                                   wait_for_async_finalize=False, chunk_size=args.chunk_size)
        out["seconds"] = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        out["cpu_seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        out["media_id"] = media.media_id_string
    out["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
