"""One YouTube upload with google-api-python-client 2.202.0, as a user would write it; prints JSON.

Runs in the peers' venv (``bench/.venv-peers``). The client is built from its static discovery document with
``rootUrl``/``baseUrl`` patched to the emulator (``client_options.api_endpoint`` would keep https on the media
URLs) and ``build_from_document(doc, credentials=Credentials(token))``; then ``videos().insert(part, body,
media_body=MediaFileUpload(path, chunksize, resumable=True))`` and the ``next_chunk()`` loop, as Google's
sample does. ``MediaFileUpload`` reads each chunk from the file (it keeps no copy of the file).

By default nothing survives the process: a second run after a kill starts a new upload from byte 0, as a
user's script does. ``--state FILE`` stores the session URI (``request.resumable_uri``) after the first chunk
and, when the file holds one, continues it: ``resumable_uri`` set and the request marked in error
(``_in_error_state``, a private attribute: the library has no public resume), so its first call is a status
query (``bytes */total``).

Output: ``{"seconds", "cpu_seconds", "peak_rss_mib", "media_id", "chunks"}`` (``--idle``: the peak RSS only,
after importing the client).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from typing import Any

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.http import MediaFileUpload


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss would start at the spawning parent's RSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def youtube(root: str, token: str) -> Any:
    """The YouTube Data API v3 client, pointed at ``root`` (its discovery document patched, nothing fetched)."""
    doc = json.loads(get_static_doc("youtube", "v3"))
    doc["rootUrl"] = doc["mtlsRootUrl"] = root.rstrip("/") + "/"
    doc["baseUrl"] = doc["rootUrl"] + doc.get("servicePath", "")
    return build_from_document(doc, credentials=Credentials(token=token))


def upload(args: argparse.Namespace) -> dict[str, Any]:
    media = MediaFileUpload(args.path, mimetype=args.media_type, chunksize=args.chunk_size, resumable=True)
    body = {"snippet": {"title": "bench", "categoryId": "22"}, "status": {"privacyStatus": "private"}}
    request = youtube(args.root, args.token).videos().insert(part="snippet,status", body=body, media_body=media)
    if args.state and os.path.exists(args.state):
        with open(args.state) as f:
            request.resumable_uri = json.load(f)["resumable_uri"]
        request._in_error_state = True  # private, and the only way to make it ask the offset first
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()  # the client built, as chunkup's connection is: from the initiation on
    response, chunks = None, 0
    while response is None:
        _, response = request.next_chunk()
        chunks += 1
        if args.state and chunks == 1 and response is None:
            with open(args.state + ".tmp", "w") as f:
                json.dump({"resumable_uri": request.resumable_uri}, f)
            os.replace(args.state + ".tmp", args.state)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": seconds, "cpu_seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "media_id": response["id"], "chunks": chunks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?")
    parser.add_argument("--root", help="the API root, e.g. http://127.0.0.1:PORT/")
    parser.add_argument("--token", default="youtube-token", help="an OAuth 2.0 access token")
    parser.add_argument("--chunk-size", type=int, default=16 * 1024 * 1024)
    parser.add_argument("--media-type", default="video/mp4")
    parser.add_argument("--state", help="a JSON file keeping the session URI: resume a killed upload")
    parser.add_argument("--idle", action="store_true", help="import the client, upload nothing")
    args = parser.parse_args()
    out: dict[str, Any] = {}
    if not args.idle:
        out.update(upload(args))
    out["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
