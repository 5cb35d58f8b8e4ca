"""Google's own upload clients, unmodified, against the emulator (run in the peers' venv, ``bench/.venv-peers``).

- ``youtube``: google-api-python-client built from its static discovery document (``rootUrl``/``baseUrl``
  patched to the emulator), videos.insert with ``MediaFileUpload(resumable=True)`` and the ``next_chunk()`` loop.
- ``storage``: the same client, ``storage.v1`` objects.insert.
- ``resumable-media``: google-resumable-media's ``ResumableUpload`` (``checksum="crc32c"``) to the GCS front door.

Prints the final resource as JSON, plus ``chunks``: how many ``next_chunk``/``transmit_next_chunk`` calls it took.
"""

from __future__ import annotations

import argparse
import json
import os


def _patched_doc(service: str, version: str, root: str) -> dict:
    from googleapiclient.discovery_cache import get_static_doc

    doc = json.loads(get_static_doc(service, version))
    doc["rootUrl"] = root.rstrip("/") + "/"
    doc["baseUrl"] = doc["rootUrl"] + doc.get("servicePath", "")
    doc["mtlsRootUrl"] = doc["rootUrl"]
    return doc


def _service(service: str, version: str, root: str, token: str):
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build_from_document

    return build_from_document(_patched_doc(service, version, root), credentials=Credentials(token=token))


def _loop(request) -> tuple[dict, int]:
    response, calls = None, 0
    while response is None:
        _, response = request.next_chunk()
        calls += 1
    return response, calls


def youtube(args: argparse.Namespace) -> dict:
    from googleapiclient.http import MediaFileUpload

    service = _service("youtube", "v3", args.root, args.token)
    body = {"snippet": {"title": "google-api-python-client was here", "categoryId": "22", "tags": ["peer"]},
            "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False}}
    media = MediaFileUpload(args.file, mimetype="video/mp4", chunksize=args.chunk_size, resumable=True)
    request = service.videos().insert(part="snippet,status", body=body, media_body=media, notifySubscribers=False)
    response, calls = _loop(request)
    listed = service.videos().list(part="status,processingDetails", id=response["id"]).execute()
    out = {**response, "chunks": calls, "listed": listed}
    if args.thumbnail:
        image = MediaFileUpload(args.thumbnail, mimetype="image/png", chunksize=256 * 1024, resumable=True)
        out["thumbnail"], out["thumbnail_chunks"] = _loop(service.thumbnails().set(videoId=response["id"],
                                                                                   media_body=image))
    return out


def storage(args: argparse.Namespace) -> dict:
    from googleapiclient.http import MediaFileUpload

    service = _service("storage", "v1", args.root, args.token)
    media = MediaFileUpload(args.file, mimetype="video/mp4", chunksize=args.chunk_size, resumable=True)
    request = service.objects().insert(bucket=args.bucket, name=args.name, media_body=media,
                                       body={"metadata": {"peer": "google-api-python-client"}})
    response, calls = _loop(request)
    return {**response, "chunks": calls}


def resumable_media(args: argparse.Namespace) -> dict:
    import requests
    from google.resumable_media.requests import ResumableUpload

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {args.token}"
    url = f"{args.root.rstrip('/')}/upload/storage/v1/b/{args.bucket}/o?uploadType=resumable"
    upload = ResumableUpload(url, args.chunk_size, checksum="crc32c")
    calls = 0
    with open(args.file, "rb") as stream:
        upload.initiate(session, stream, {"name": args.name}, "video/mp4")
        while not upload.finished:
            response = upload.transmit_next_chunk(session)
            calls += 1
    return {**response.json(), "chunks": calls, "bytes_uploaded": upload.bytes_uploaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["youtube", "storage", "resumable-media"])
    parser.add_argument("--root", required=True, help="the emulator's URL")
    parser.add_argument("--token", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--chunk-size", type=int, default=256 * 1024)
    parser.add_argument("--thumbnail", help="youtube: then set this PNG as the thumbnail, resumable")
    parser.add_argument("--bucket", default="media")
    parser.add_argument("--name", default=os.environ.get("OBJECT_NAME", "clips/peer.mp4"))
    args = parser.parse_args()
    run = {"youtube": youtube, "storage": storage, "resumable-media": resumable_media}[args.mode]
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
