"""Run in the peers' venv (facebook-business 26.0.3): ``AdVideo.remote_create()`` of a file through the emulator.

Graph's hosts are hard-coded in the SDK, so an ``HTTPAdapter`` mounted on its session rewrites
``https://graph-video.facebook.com`` and ``https://graph.facebook.com`` to the emulator (a proxy cannot: HTTPS
CONNECT). Prints ``{"id": ..., "answer": ...}`` as JSON, ``{"error": {...}}`` when the SDK raised a Graph error, or
``{"failed": "..."}`` when it raised another of its errors (``--wait``: encoding that did not end ready).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from facebook_business.adobjects.advideo import AdVideo
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookError, FacebookRequestError
from requests.adapters import HTTPAdapter

HOSTS = ("https://graph-video.facebook.com", "https://graph.facebook.com")


class ToEmulator(HTTPAdapter):
    """Sends what the SDK addresses to Graph's hosts to the emulator instead."""

    def __init__(self, emulator: str) -> None:
        super().__init__()
        self.emulator = emulator

    def send(self, request: Any, **kwargs: Any) -> Any:
        for host in HOSTS:
            if request.url.startswith(host):
                request.url = self.emulator + request.url[len(host) :]
        return super().send(request, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--wait", action="store_true", help="wait for encoding (the SDK polls fields=status)")
    args = parser.parse_args()
    api = FacebookAdsApi.init(access_token=args.token, crash_log=False, timeout=60)
    adapter = ToEmulator(args.emulator)
    for host in HOSTS:
        api._session.requests.mount(host, adapter)
    video = AdVideo(parent_id=f"act_{args.account}", api=api)
    video[AdVideo.Field.filepath] = args.file
    try:
        answer = video.remote_create()
        if args.wait:
            video.waitUntilEncodingReady(interval=1, timeout=60)
    except FacebookRequestError as exc:
        print(json.dumps({"error": exc.body()}))
        return
    except FacebookError as exc:
        print(json.dumps({"failed": str(exc)}))
        return
    print(json.dumps({"id": video["id"], "answer": dict(answer)}))


if __name__ == "__main__":
    main()
