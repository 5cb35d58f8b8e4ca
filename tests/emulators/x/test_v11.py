"""Legacy X media upload v1.1 (``/1.1/media/upload.json``) against the emulator."""

from __future__ import annotations

import base64

import httpx
import pytest

from ..support import (
    V11,
    OAuth1,
    append_v2,
    assert_v11_error,
    inspect,
    random_bytes,
    sha256,
    split,
    status_v2,
)

MIB = 1024 * 1024


def v11_init(client: httpx.Client, total_bytes: int, media_type: str = "video/mp4", **extra: str) -> str:
    response = client.post(
        V11, data={"command": "INIT", "total_bytes": str(total_bytes), "media_type": media_type, **extra}
    )
    assert response.status_code == 202, response.text
    return response.json()["media_id_string"]


def v11_append(client: httpx.Client, media_id: str, index: int, data: bytes) -> httpx.Response:
    return client.post(
        V11,
        data={"command": "APPEND", "media_id": media_id, "segment_index": str(index)},
        files={"media": ("blob", data, "application/octet-stream")},
    )


def v11_upload(client: httpx.Client, data: bytes, segment_size: int = 1024, **init: str) -> str:
    media_id = v11_init(client, len(data), **init)
    for index, chunk in enumerate(split(data, segment_size)):
        assert v11_append(client, media_id, index, chunk).status_code == 204
    return media_id


def v11_status(client: httpx.Client, media_id: str) -> httpx.Response:
    return client.get(V11, params={"command": "STATUS", "media_id": media_id})


def test_chunked_upload_is_byte_exact(client, anon):
    data = random_bytes(2 * MIB + 777)
    init = client.post(V11, data={"command": "INIT", "total_bytes": str(len(data)), "media_type": "video/mp4"})
    assert init.status_code == 202
    body = init.json()
    media_id = body["media_id_string"]
    assert body["media_id"] == int(media_id)
    assert body["expires_after_secs"] == 86400
    assert body["media_key"] == f"7_{media_id}"
    assert "x-rate-limit-remaining" in init.headers

    for index, chunk in enumerate(split(data, MIB)):
        response = v11_append(client, media_id, index, chunk)
        assert response.status_code == 204
        assert response.content == b""

    final = client.post(V11, data={"command": "FINALIZE", "media_id": media_id})
    assert final.status_code == 201
    # No media_category at INIT: X finalizes synchronously, so no processing_info.
    assert final.json() == {
        "media_id": int(media_id),
        "media_id_string": media_id,
        "media_key": f"7_{media_id}",
        "size": len(data),
        "expires_after_secs": final.json()["expires_after_secs"],
        "video": {"video_type": "video/mp4"},
    }
    assert inspect(anon, media_id)["sha256"] == sha256(data)


def test_media_category_makes_processing_async(client, emulator, clock):
    emulator.config.x.processing_seconds = 0.8
    media_id = v11_upload(client, b"video-bytes", media_category="tweet_video")
    final = client.post(V11, data={"command": "FINALIZE", "media_id": media_id})
    assert final.json()["processing_info"] == {"state": "pending", "check_after_secs": 1}
    status = v11_status(client, media_id)
    assert status.status_code == 200
    body = status.json()
    assert body["media_id"] == int(media_id) and body["media_id_string"] == media_id
    assert body["processing_info"]["state"] == "pending"
    assert isinstance(body["expires_after_secs"], int)
    clock.advance(0.3)
    assert v11_status(client, media_id).json()["processing_info"]["state"] == "in_progress"
    clock.advance(0.6)
    assert v11_status(client, media_id).json()["processing_info"] == {"state": "succeeded", "progress_percent": 100}


def test_failed_processing_reports_error(client, emulator):
    emulator.config.x.processing_seconds = 0
    emulator.config.x.processing_outcome = "failed"
    media_id = v11_upload(client, b"gif", media_type="image/gif", media_category="tweet_gif")
    client.post(V11, data={"command": "FINALIZE", "media_id": media_id})
    info = v11_status(client, media_id).json()["processing_info"]
    assert info["state"] == "failed"
    assert info["error"] == {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}


def test_command_in_query_string(client, anon):
    data = b"0123456789"
    init = client.post(V11, params={"command": "INIT", "total_bytes": "10", "media_type": "image/png"})
    media_id = init.json()["media_id_string"]
    append = client.post(
        V11, params={"command": "APPEND", "media_id": media_id, "segment_index": "0"}, files={"media": ("b", data)}
    )
    assert append.status_code == 204
    assert client.post(V11, params={"command": "FINALIZE", "media_id": media_id}).status_code == 201
    assert inspect(anon, media_id)["sha256"] == sha256(data)


def test_media_data_base64(client, anon):
    data = random_bytes(3000)
    media_id = v11_init(client, len(data), media_type="image/jpeg")
    encoded = base64.b64encode(data[:1500]).decode()
    multipart = client.post(
        V11,
        data={"command": "APPEND", "media_id": media_id, "segment_index": "0"},
        files={"media_data": (None, encoded)},
    )
    assert multipart.status_code == 204, multipart.text
    urlencoded = client.post(
        V11,
        data={
            "command": "APPEND",
            "media_id": media_id,
            "segment_index": "1",
            "media_data": base64.b64encode(data[1500:]).decode(),
        },
    )
    assert urlencoded.status_code == 204, urlencoded.text
    assert client.post(V11, data={"command": "FINALIZE", "media_id": media_id}).status_code == 201
    assert inspect(anon, media_id)["sha256"] == sha256(data)


def test_v11_and_v2_share_one_store(client, anon):
    data = b"a" * 10 + b"b" * 10
    media_id = v11_init(client, len(data), media_category="tweet_video")
    assert v11_append(client, media_id, 0, data[:10]).status_code == 204
    assert append_v2(client, media_id, 1, data[10:]).status_code == 200
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert status_v2(client, media_id).status_code == 200
    assert v11_status(client, media_id).status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(data)


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "code", "message_part"),
    [
        ({}, 38, "command parameter is missing."),
        ({"command": "UPLOAD"}, 44, "command"),
        ({"command": "INIT", "media_type": "video/mp4"}, 38, "total_bytes parameter is missing."),
        ({"command": "INIT", "total_bytes": "ten", "media_type": "video/mp4"}, 44, "total_bytes"),
        ({"command": "INIT", "total_bytes": "10"}, 38, "media_type parameter is missing."),
        ({"command": "INIT", "total_bytes": "10", "media_type": "video/avi"}, 44, "media_type"),
        ({"command": "INIT", "total_bytes": "10", "media_type": "video/mp4", "media_category": "x"}, 44, "category"),
        ({"command": "INIT", "total_bytes": "10", "media_type": "video/mp4", "additional_owners": "1,a"}, 44, "owner"),
        ({"command": "INIT", "total_bytes": str(6 * MIB), "media_type": "image/png"}, 324, "exceeds"),
        ({"command": "APPEND", "segment_index": "0"}, 38, "media_id parameter is missing."),
        ({"command": "FINALIZE"}, 38, "media_id parameter is missing."),
        ({"command": "FINALIZE", "media_id": "12x"}, 44, "media_id"),
    ],
)
def test_bad_requests(client, form, code, message_part):
    message = assert_v11_error(client.post(V11, data=form), 400, code)
    assert message_part in message


def test_append_errors(client, emulator):
    media_id = v11_init(client, 100)
    base = {"command": "APPEND", "media_id": media_id}
    no_media = client.post(V11, data={**base, "segment_index": "0"})
    assert assert_v11_error(no_media, 400, 38) == "media parameter is missing."
    no_index = client.post(V11, data=base, files={"media": ("b", b"x")})
    assert assert_v11_error(no_index, 400, 38) == "segment_index parameter is missing."
    out_of_range = client.post(V11, data={**base, "segment_index": "1000"}, files={"media": ("b", b"x")})
    assert_v11_error(out_of_range, 400, 44)
    emulator.config.x.max_segment_bytes = 10
    too_big = client.post(V11, data={**base, "segment_index": "0"}, files={"media": ("b", b"x" * 11)})
    assert_v11_error(too_big, 400, 324)
    unknown = v11_append(client, "1234567890123456789", 0, b"x")
    assert_v11_error(unknown, 404, 324)


def test_finalize_with_wrong_total(client):
    media_id = v11_init(client, 30)
    v11_append(client, media_id, 0, b"a" * 20)
    message = assert_v11_error(client.post(V11, data={"command": "FINALIZE", "media_id": media_id}), 400, 324)
    assert message == "Segments do not add up to provided total file size."


def test_large_video_without_category_cannot_finalize_synchronously(client):
    data = random_bytes(15 * MIB + 1)
    media_id = v11_upload(client, data, segment_size=4 * MIB)
    response = client.post(V11, data={"command": "FINALIZE", "media_id": media_id})
    assert assert_v11_error(response, 400, 324) == "Large file can not be finalized synchronously."


def test_status_errors(client):
    media_id = v11_init(client, 10)
    assert_v11_error(v11_status(client, media_id), 400, 324)  # not finalized
    assert_v11_error(v11_status(client, "1234567890"), 404, 324)
    assert_v11_error(client.get(V11, params={"command": "INIT"}), 400, 44)
    assert_v11_error(client.post(V11, data={"command": "STATUS", "media_id": media_id}), 400, 44)


def test_expired_session(client, anon):
    media_id = v11_init(client, 10)
    anon.post(f"/_emulator/x/media/{media_id}/expire")
    message = assert_v11_error(v11_append(client, media_id, 0, b"x" * 10), 400, 324)
    assert "expired" in message


def test_rate_limited(client, emulator):
    emulator.config.x.rate_limit = 1
    v11_init(client, 10)
    limited = client.post(V11, data={"command": "INIT", "total_bytes": "10", "media_type": "video/mp4"})
    assert limited.status_code == 429
    assert limited.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert limited.headers["x-rate-limit-remaining"] == "0"


# -- auth -----------------------------------------------------------------------------------------

INIT_FORM = {"command": "INIT", "total_bytes": "4", "media_type": "video/mp4"}


def test_unauthenticated(anon):
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = anon.post(V11, data=INIT_FORM, headers=headers)
        assert assert_v11_error(response, 401, 32) == "Could not authenticate you."


def test_forbidden_token(anon):
    response = anon.post(V11, data=INIT_FORM, headers={"Authorization": "Bearer chunkup-emulator-no-media-write"})
    assert_v11_error(response, 403, 220)


def test_oauth1_full_flow(emulator, anon):
    """urlencoded INIT/FINALIZE (body signed), multipart APPEND (body not signed), GET STATUS (query signed)."""
    emulator.config.x.processing_seconds = 0
    with httpx.Client(base_url=emulator.url, auth=OAuth1()) as signed:
        init = signed.post(V11, data={**INIT_FORM, "media_category": "tweet_video"})
        assert init.status_code == 202, init.text
        media_id = init.json()["media_id_string"]
        assert v11_append(signed, media_id, 0, b"abcd").status_code == 204
        assert signed.post(V11, data={"command": "FINALIZE", "media_id": media_id}).status_code == 201
        assert v11_status(signed, media_id).json()["processing_info"]["state"] == "succeeded"
    assert inspect(anon, media_id)["sha256"] == sha256(b"abcd")


def test_oauth1_signature_covers_urlencoded_body(emulator):
    auth = OAuth1()
    signed = next(auth.auth_flow(httpx.Request("POST", f"{emulator.url}{V11}", data=INIT_FORM)))
    tampered = httpx.post(
        f"{emulator.url}{V11}",
        data={**INIT_FORM, "total_bytes": "5"},
        headers={"Authorization": signed.headers["Authorization"]},
    )
    assert assert_v11_error(tampered, 401, 32)
    replayed = httpx.post(
        f"{emulator.url}{V11}", data=INIT_FORM, headers={"Authorization": signed.headers["Authorization"]}
    )
    assert replayed.status_code == 202  # nonces are not remembered (retries must not fail on them)


def test_oauth1_wrong_secret(emulator):
    with httpx.Client(base_url=emulator.url, auth=OAuth1(token_secret="nope")) as signed:
        assert_v11_error(signed.post(V11, data=INIT_FORM), 401, 32)
