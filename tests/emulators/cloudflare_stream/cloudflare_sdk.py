"""Run in the peers' venv (the ``cloudflare`` SDK 5.9.0 and tuspy): create a tus upload, send the file, read the
video back, delete it, all against the emulator and all unmodified.

The SDK does not upload (``stream.create`` sends the creation POST only): tuspy sends the bytes to its Location with
the API token. Prints what each step saw as JSON.
"""

from __future__ import annotations

import argparse
import base64
import json
import urllib.request

import cloudflare
from tusclient import client as tus


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--chunk-size", type=int, required=True)
    args = parser.parse_args()
    api = cloudflare.Cloudflare(api_token=args.token, base_url=args.base_url)
    name = base64.b64encode(b"sdk clip").decode()
    raw = api.stream.with_raw_response.create(account_id=args.account, tus_resumable="1.0.0",
                                              upload_length=args.size, upload_metadata=f"name {name}",
                                              upload_creator="sdk-user")  # fmt: skip
    uid, location = raw.headers["stream-media-id"], raw.headers["location"]
    before = api.stream.get(uid, account_id=args.account)
    uploader = tus.TusClient(location, headers={"Authorization": f"Bearer {args.token}"}).uploader(
        args.file, url=location, chunk_size=args.chunk_size)
    uploader.upload()
    after = api.stream.get(uid, account_id=args.account)
    # What the emulator stored, read from its inspection endpoint before the video goes.
    inspection = f"{args.base_url.removesuffix('/client/v4')}/_emulator/cloudflare_stream/videos/{uid}"
    with urllib.request.urlopen(inspection) as answer:
        stored = json.load(answer)["sha256"]
    api.stream.delete(uid, account_id=args.account)
    try:
        api.stream.get(uid, account_id=args.account)
        gone = None
    except cloudflare.NotFoundError as exc:
        gone = {"status": exc.status_code, "error": type(exc).__name__}
    print(json.dumps({
        "status": raw.status_code, "uid": uid, "location": location,
        "before": {"uid": before.uid, "state": before.status.state, "meta": before.meta, "creator": before.creator,
                   "ready": before.ready_to_stream},
        "after": {"state": after.status.state, "pct": after.status.pct_complete, "ready": after.ready_to_stream,
                  "ready_at": after.ready_to_stream_at.isoformat() if after.ready_to_stream_at else None,
                  "size": after.size},
        "stored_sha256": stored, "gone": gone,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
