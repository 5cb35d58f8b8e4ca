"""One Facebook ad video upload with facebook-business 26.0.3 (Meta's SDK), as a user would write it; prints JSON.

Runs in the peers' venv (``bench/.venv-peers``). ``FacebookAdsApi.init(access_token=..., crash_log=False)`` (the
default crash log would post tracebacks to Meta), then ``AdVideo(parent_id="act_<id>")`` with ``filepath`` and
``remote_create()``: start, a transfer per window Graph dictates (each window read whole into memory), finish.
The SDK's Graph hosts are hard-coded, so an ``HTTPAdapter`` mounted on its session for
``https://graph-video.facebook.com`` and ``https://graph.facebook.com`` rewrites them to the emulator (a proxy
cannot: HTTPS CONNECT). The SDK keeps no upload state: a run after a kill starts a new upload from byte 0.

Output: ``{"seconds", "cpu_seconds", "peak_rss_mib", "media_id"}`` (``--idle``: the peak RSS only, after importing
the SDK).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

from facebook_business.adobjects.advideo import AdVideo
from facebook_business.api import FacebookAdsApi
from requests.adapters import HTTPAdapter

HOSTS = ("https://graph-video.facebook.com", "https://graph.facebook.com")


class ToEmulator(HTTPAdapter):
    """Sends what the SDK addresses to Graph's hosts to the emulator instead."""

    def __init__(self, emulator: str) -> None:
        super().__init__()
        self.emulator = emulator.rstrip("/")

    def send(self, request: Any, **kwargs: Any) -> Any:
        for host in HOSTS:
            if request.url.startswith(host):
                request.url = self.emulator + request.url[len(host):]
        return super().send(request, **kwargs)


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss would start at the spawning parent's RSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def upload(args: argparse.Namespace) -> dict[str, Any]:
    api = FacebookAdsApi.init(access_token=args.token, crash_log=False)
    adapter = ToEmulator(args.emulator)
    for host in HOSTS:
        api._session.requests.mount(host, adapter)
    video = AdVideo(parent_id=f"act_{args.account}", api=api)
    video[AdVideo.Field.filepath] = args.path
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()  # the API set up, as chunkup's connection is: from the start phase on
    video.remote_create()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": seconds, "cpu_seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "media_id": video["id"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?")
    parser.add_argument("--emulator", help="the emulator's base URL, e.g. http://127.0.0.1:PORT")
    parser.add_argument("--token", default="meta-token", help="a Graph access token")
    parser.add_argument("--account", default="4242", help="the ad account id (without act_)")
    parser.add_argument("--idle", action="store_true", help="import the SDK, upload nothing")
    args = parser.parse_args()
    out: dict[str, Any] = {}
    if not args.idle:
        out.update(upload(args))
    out["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
