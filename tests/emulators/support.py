"""Helpers shared by the emulator tests: OAuth 1.0a signing, X, api.video and Content-Range upload shortcuts."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import oauthlib.oauth1

TOKEN = "chunkup-emulator-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CONSUMER_KEY, CONSUMER_SECRET = "chunkup-consumer-key", "chunkup-consumer-secret"
ACCESS_TOKEN, ACCESS_SECRET = "chunkup-access-token", "chunkup-access-token-secret"
INVALID_REQUEST = "https://api.x.com/2/problems/invalid-request"
V11 = "/1.1/media/upload.json"


class OAuth1(httpx.Auth):
    """OAuth 1.0a (HMAC-SHA1) signing with oauthlib, as a client would do it."""

    requires_request_body = True

    def __init__(
        self,
        consumer_key: str = CONSUMER_KEY,
        consumer_secret: str = CONSUMER_SECRET,
        token: str = ACCESS_TOKEN,
        token_secret: str = ACCESS_SECRET,
        **client_kwargs: Any,
    ) -> None:
        self.client = oauthlib.oauth1.Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=token,
            resource_owner_secret=token_secret,
            **client_kwargs,
        )

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        content_type = request.headers.get("content-type", "")
        # RFC 5849: only a urlencoded body's parameters are signed.
        if content_type.startswith("application/x-www-form-urlencoded"):
            body, headers = request.content.decode(), {"Content-Type": content_type}
        else:
            body, headers = None, {}
        _, signed, _ = self.client.sign(str(request.url), request.method, body=body, headers=headers)
        request.headers["Authorization"] = signed["Authorization"]
        yield request


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def init_v2(client: httpx.Client, total_bytes: int, media_type: str = "video/mp4", **extra: Any) -> str:
    body = {"media_type": media_type, "total_bytes": total_bytes, **extra}
    response = client.post("/2/media/upload/initialize", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]["id"]


def append_v2(client: httpx.Client, media_id: str, index: int, data: bytes) -> httpx.Response:
    return client.post(
        f"/2/media/upload/{media_id}/append",
        data={"segment_index": str(index)},
        files={"media": ("blob", data, "application/octet-stream")},
    )


def upload_v2(client: httpx.Client, data: bytes, segment_size: int = 1024, **init: Any) -> str:
    """INIT and APPEND all of ``data``; returns the media id (not finalized)."""
    media_id = init_v2(client, len(data), **init)
    for index, chunk in enumerate(split(data, segment_size)):
        assert append_v2(client, media_id, index, chunk).status_code == 200
    return media_id


def status_v2(client: httpx.Client, media_id: str) -> httpx.Response:
    return client.get("/2/media/upload", params={"media_id": media_id, "command": "STATUS"})


def inspect(anon: httpx.Client, media_id: str) -> dict[str, Any]:
    response = anon.get(f"/_emulator/x/media/{media_id}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_invalid_request(response: httpx.Response, parameter: str | None = None) -> dict[str, Any]:
    """A v2 InvalidRequestProblem; returns the body for further checks."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == INVALID_REQUEST
    assert body["title"] == "Invalid Request"
    assert body["status"] == 400
    assert isinstance(body["detail"], str) and body["detail"]
    if parameter is not None:
        assert body["parameter"] == parameter
        assert isinstance(body.get("value", ""), str)
    return body


def assert_v11_error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["code"] == code
    return errors[0]["message"]


def multipart(parts: dict[str, bytes], boundary: str = "chunkup-test-boundary") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of plain fields (no filenames), built by hand."""
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in parts.items()
    )
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


# -- api.video ------------------------------------------------------------------------------------

APIVIDEO_KEY = "chunkup-apivideo-key"
APIVIDEO_DOCS = "https://docs.api.video/reference/"
#: ``min_chunk_bytes`` under the ``av`` fixture, so most tests move kilobytes rather than 5 MiB parts.
APIVIDEO_MIN_CHUNK = 1024


def apivideo_basic(key: str = APIVIDEO_KEY) -> dict[str, str]:
    """api.video's Basic auth: the API key as user name, an empty password."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def create_video(client: httpx.Client, title: str = "clip", **fields: Any) -> str:
    response = client.post("/videos", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()["videoId"]


def upload_chunk(
    client: httpx.Client,
    video_id: str,
    data: bytes,
    content_range: str | None = None,
    filename: str = "clip.mp4",
) -> httpx.Response:
    """``POST /videos/{id}/source`` with one ``file`` part and, if given, a ``Content-Range``."""
    headers = {"Content-Range": content_range} if content_range is not None else {}
    return client.post(f"/videos/{video_id}/source", files={"file": (filename, data)}, headers=headers)


def upload_parts(client: httpx.Client, video_id: str, data: bytes, part_size: int) -> httpx.Response:
    """Every part of ``data`` in order as ``part N/M``; returns the last response."""
    chunks = split(data, part_size)
    for number, chunk in enumerate(chunks, start=1):
        response = upload_chunk(client, video_id, chunk, f"part {number}/{len(chunks)}")
        assert response.status_code == 201, response.text
    return response


def inspect_video(anon: httpx.Client, video_id: str) -> dict[str, Any]:
    response = anon.get(f"/_emulator/apivideo/videos/{video_id}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_apivideo_error(
    response: httpx.Response, status: int, kind: str, name: str | None = None
) -> dict[str, Any]:
    """api.video's problem body: ``type`` (a docs URL), ``title``, ``name``, ``status``, maybe ``detail``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["type"] == APIVIDEO_DOCS + kind, body
    assert isinstance(body["title"], str) and body["title"]
    assert body["status"] == status
    assert set(body) <= {"type", "title", "name", "status", "detail"}
    if name is not None:
        assert body["name"] == name, body
    return body


# -- Content-Range + upload_id (SelfCommunity / django-chunked-upload) -----------------------------

CR_TOKEN = "chunkup-content-range-token"
CR_BEARER = {"Authorization": f"Bearer {CR_TOKEN}"}
CR_CHUNK = "/api/v2/media/upload/chunk/"
CR_COMPLETE = "/api/v2/media/upload/complete/"
#: SelfCommunity's documented chunk size (and the emulator's default limit).
CR_CHUNK_SIZE = 204800


def cr_chunk(
    client: httpx.Client,
    data: bytes,
    content_range: str | None = None,
    upload_id: str | None = None,
    field: str = "image",
    filename: str = "photo.png",
    **fields: str,
) -> httpx.Response:
    """One chunk in the ``field`` part, with ``upload_id`` and a ``Content-Range`` when given."""
    headers = {"Content-Range": content_range} if content_range is not None else {}
    form = {**fields, **({"upload_id": upload_id} if upload_id else {})}
    return client.post(CR_CHUNK, files={field: (filename, data)}, data=form, headers=headers)


def cr_upload(
    client: httpx.Client,
    data: bytes,
    chunk_size: int = CR_CHUNK_SIZE,
    field: str = "image",
    filename: str = "photo.png",
    upload_id: str | None = None,
    start: int = 0,
    status: int = 201,
) -> str:
    """Send ``data[start:]`` in order as ``bytes a-b/total`` chunks; returns the upload_id."""
    for offset in range(start, len(data), chunk_size):
        chunk = data[offset : offset + chunk_size]
        rng = f"bytes {offset}-{offset + len(chunk) - 1}/{len(data)}"
        response = cr_chunk(client, chunk, rng, upload_id, field, filename)
        assert response.status_code == status, response.text
        body = response.json()
        assert body["offset"] == offset + len(chunk)
        upload_id = body["upload_id"]
    assert upload_id is not None
    return upload_id


def cr_complete(client: httpx.Client, upload_id: str, md5: str, **fields: str) -> httpx.Response:
    """The complete call as SelfCommunity's client sends it (multipart form fields)."""
    parts = {"upload_id": (None, upload_id), "md5": (None, md5), **{k: (None, v) for k, v in fields.items()}}
    return client.post(CR_COMPLETE, files=parts)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def inspect_cr(anon: httpx.Client, upload_id: str) -> dict[str, Any]:
    response = anon.get(f"/_emulator/content-range/uploads/{upload_id}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_detail(response: httpx.Response, status: int, detail: str, **extra: Any) -> None:
    """A ``{"detail": ...}`` refusal, exactly."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": detail, **extra}


def assert_django_404(response: httpx.Response) -> None:
    """Django's own HTML 404 page (``get_object_or_404`` in a plain view), not JSON."""
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not Found</h1>" in response.text


# -- X posts, alt text and subtitles -----------------------------------------------------------------

X_INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
X_USER_ID = "1843000000000000001"
NO_TWEET_WRITE = {"Authorization": "Bearer chunkup-emulator-no-tweet-write"}


def finalize_v2(client: httpx.Client, data: bytes, media_type: str = "image/png", **init: Any) -> str:
    """INIT, APPEND and FINALIZE ``data``; returns the media id."""
    media_id = upload_v2(client, data, media_type=media_type, **init)
    response = client.post(f"/2/media/upload/{media_id}/finalize")
    assert response.status_code == 200, response.text
    return media_id


def create_post(client: httpx.Client, status: int = 201, **body: Any) -> dict[str, Any]:
    """``POST /2/tweets`` expecting ``status``; returns the answer's JSON."""
    response = client.post("/2/tweets", json=body)
    assert response.status_code == status, response.text
    return response.json()


def assert_x_invalid(response: httpx.Response, message: str, parameters: dict[str, Any] | None = None) -> None:
    """X's v2 validation error: 400, one ``errors`` entry with ``message`` (and ``parameters`` if given)."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["title"] == "Invalid Request"
    assert body["detail"] == "One or more parameters to your request was invalid."
    assert body["type"] == X_INVALID_REQUEST
    assert [e["message"] for e in body["errors"]] == [message], body
    if parameters is not None:
        assert body["errors"][0]["parameters"] == parameters


def assert_x_forbidden(response: httpx.Response, detail: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}


def stored_posts(anon: httpx.Client) -> list[dict[str, Any]]:
    response = anon.get("/_emulator/x/posts")
    assert response.status_code == 200, response.text
    return response.json()
