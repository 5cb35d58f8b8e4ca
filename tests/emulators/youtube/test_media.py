"""thumbnails.set and captions.insert on a finished video."""

from __future__ import annotations

import hashlib
import json

import pytest

from ..google_resumable.helpers import ALIGN, YOUTUBE_AUTH, YT_CONTROL, put, query, upload_all, upload_id
from .helpers import uploaded

JPEG = b"\xff\xd8\xff\xe0" + b"j" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 500
THUMBNAILS = "/upload/youtube/v3/thumbnails/set"
CAPTIONS = "/upload/youtube/v3/captions"
SRT = b"1\n00:00:00,000 --> 00:00:01,000\nHello\n"


def set_thumbnail(google, video_id: str, data: bytes, media_type: str = "image/jpeg"):
    return google.post(THUMBNAILS, params={"videoId": video_id}, content=data,
                       headers={**YOUTUBE_AUTH, "Content-Type": media_type})  # fmt: skip


def multipart(snippet: dict, media: bytes, boundary: str = "==chunkup==") -> tuple[bytes, str]:
    body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps({'snippet': snippet})}"
            f"\r\n--{boundary}\r\nContent-Type: application/x-subrip\r\n\r\n").encode() + media \
        + f"\r\n--{boundary}--\r\n".encode()  # fmt: skip
    return body, f'multipart/related; boundary="{boundary}"'


def insert_caption(google, snippet: dict, media: bytes = SRT, **params: str):
    body, content_type = multipart(snippet, media)
    return google.post(CAPTIONS, params={"part": "snippet", "uploadType": "multipart", **params}, content=body,
                       headers={**YOUTUBE_AUTH, "Content-Type": content_type})  # fmt: skip


@pytest.mark.parametrize(("data", "media_type"), [(JPEG, "image/jpeg"), (PNG, "image/png")])
def test_a_thumbnail_is_set(google, data, media_type):
    video = uploaded(google)
    answer = set_thumbnail(google, video["id"], data, media_type)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind"] == "youtube#thumbnailSetResponse" and body["items"][0]["default"]["url"].endswith(".jpg")
    thumbnail = google.get(f"{YT_CONTROL}/videos/{video['id']}").json()["thumbnail"]
    assert thumbnail == {"content_type": media_type, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert google.get("/_emulator/stats").json()["youtube_thumbnails_set"] == 1


@pytest.mark.parametrize(
    ("data", "media_type", "status", "reason"),
    [
        (JPEG, "image/gif", 400, "invalidImage"),
        (PNG, "image/jpeg", 400, "invalidImage"),
        (b"\xff\xd8\xff" + b"x" * 3000, "image/jpeg", 400, "imageTooLarge"),
    ],
)  # fmt: skip
def test_thumbnail_refusals(google, emulator, data, media_type, status, reason):
    emulator.config.youtube.thumbnail_max_bytes = 2500
    video = uploaded(google)
    answer = set_thumbnail(google, video["id"], data, media_type)
    assert answer.status_code == status and answer.json()["error"]["errors"][0]["reason"] == reason
    assert google.get(f"{YT_CONTROL}/videos/{video['id']}").json()["thumbnail"] is None


def test_a_thumbnail_for_an_unknown_video_is_404(google):
    answer = set_thumbnail(google, "nope", JPEG)
    assert answer.status_code == 404 and answer.json()["error"]["errors"][0]["reason"] == "videoNotFound"


def test_a_caption_is_inserted(google):
    video = uploaded(google)
    answer = insert_caption(google, {"videoId": video["id"], "language": "en", "name": "English"})
    assert answer.status_code == 200, answer.text
    caption = answer.json()
    assert caption["kind"] == "youtube#caption"
    assert caption["snippet"]["videoId"] == video["id"] and caption["snippet"]["language"] == "en"
    stored = google.get(f"{YT_CONTROL}/videos/{video['id']}").json()["captions"]
    assert stored == [{"id": caption["id"], "language": "en", "name": "English", "content_type": "application/x-subrip",
                       "size": len(SRT), "sha256": hashlib.sha256(SRT).hexdigest()}]  # fmt: skip
    assert google.get("/_emulator/stats").json()["youtube_units_used"] == 400


def test_caption_refusals(google, emulator):
    video = uploaded(google)
    unknown = insert_caption(google, {"videoId": "nope", "language": "en", "name": "x"})
    assert unknown.status_code == 404 and unknown.json()["error"]["errors"][0]["reason"] == "videoNotFound"
    no_language = insert_caption(google, {"videoId": video["id"], "name": "x"})
    assert no_language.status_code == 400 and no_language.json()["error"]["errors"][0]["reason"] == "invalidMetadata"
    empty = insert_caption(google, {"videoId": video["id"], "language": "en", "name": "x"}, media=b"")
    assert empty.status_code == 400 and empty.json()["error"]["errors"][0]["reason"] == "mediaBodyRequired"
    wrong_type = insert_caption(google, {"videoId": video["id"], "language": "en", "name": "x"}, uploadType="media")
    assert wrong_type.status_code == 400
    not_multipart = google.post(CAPTIONS, params={"part": "snippet"}, content=SRT,
                                headers={**YOUTUBE_AUTH, "Content-Type": "application/x-subrip"})  # fmt: skip
    assert not_multipart.status_code == 400 and not_multipart.json()["error"]["errors"][0]["reason"] == "badContent"
    emulator.config.youtube.caption_max_bytes = 10
    big = insert_caption(google, {"videoId": video["id"], "language": "en", "name": "x"})
    assert big.status_code == 413
    assert google.get(f"{YT_CONTROL}/videos/{video['id']}").json()["captions"] == []


def resumable_start(google, path: str, params: dict, media_type: str, length: int, json_body=None):
    headers = {**YOUTUBE_AUTH, "X-Upload-Content-Type": media_type, "X-Upload-Content-Length": str(length)}
    return google.post(path, params={**params, "uploadType": "resumable"}, headers=headers, json=json_body)


def test_a_thumbnail_through_a_resumable_session(google):
    video = uploaded(google)
    data = PNG + b"q" * (ALIGN)
    started = resumable_start(google, THUMBNAILS, {"videoId": video["id"]}, "image/png", len(data))
    assert started.status_code == 200
    url = started.headers["Location"]
    assert "/upload/youtube/v3/thumbnails/set?uploadType=resumable&upload_id=" in url
    final = upload_all(google, url, data, ALIGN)
    assert final.status_code == 201 and final.json()["kind"] == "youtube#thumbnailSetResponse"
    thumbnail = google.get(f"{YT_CONTROL}/videos/{video['id']}").json()["thumbnail"]
    assert thumbnail == {"content_type": "image/png", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert google.get(f"{YT_CONTROL}/sessions/{upload_id(url)}").json()["kind"] == "thumbnail"


def test_resumable_thumbnail_refusals(google, emulator):
    video = uploaded(google)
    emulator.config.youtube.thumbnail_max_bytes = 1000
    too_big = resumable_start(google, THUMBNAILS, {"videoId": video["id"]}, "image/png", 1001)
    assert too_big.status_code == 400 and too_big.json()["error"]["errors"][0]["reason"] == "imageTooLarge"
    gif = resumable_start(google, THUMBNAILS, {"videoId": video["id"]}, "image/gif", 10)
    assert gif.status_code == 400 and gif.json()["error"]["errors"][0]["reason"] == "invalidImage"
    url = resumable_start(google, THUMBNAILS, {"videoId": video["id"]}, "image/jpeg", len(PNG)).headers["Location"]
    refused = put(google, url, PNG, 0, len(PNG))  # a PNG announced as JPEG: refused at completion
    assert refused.status_code == 400 and refused.json()["error"]["errors"][0]["reason"] == "invalidImage"
    assert query(google, url).status_code == 410
    assert google.get(f"{YT_CONTROL}/videos/{video['id']}").json()["thumbnail"] is None


def test_a_caption_through_a_resumable_session(google):
    video = uploaded(google)
    body = {"snippet": {"videoId": video["id"], "language": "fr", "name": "Français", "isDraft": True}}
    started = resumable_start(google, CAPTIONS, {"part": "snippet"}, "text/vtt", len(SRT), body)
    assert started.status_code == 200
    final = put(google, started.headers["Location"], SRT, 0, len(SRT))
    assert final.status_code == 201
    caption = final.json()
    assert caption["snippet"]["language"] == "fr" and caption["snippet"]["isDraft"] is True
    stored = google.get(f"{YT_CONTROL}/videos/{video['id']}").json()["captions"]
    assert stored[0]["content_type"] == "text/vtt" and stored[0]["sha256"] == hashlib.sha256(SRT).hexdigest()
    unknown = resumable_start(google, CAPTIONS, {"part": "snippet"}, "text/vtt", 3,
                              {"snippet": {"videoId": "nope", "language": "en", "name": ""}})  # fmt: skip
    assert unknown.status_code == 404
