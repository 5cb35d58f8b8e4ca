"""X media upload v2 against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import struct
import time
from pathlib import Path

import httpx
import pytest

from ..support import (
    BEARER,
    OAuth1,
    append_v2,
    assert_invalid_request,
    init_v2,
    inspect,
    multipart,
    random_bytes,
    sha256,
    split,
    status_v2,
    upload_v2,
)

MIB = 1024 * 1024
SEGMENTS_MISMATCH = "Segments do not add up to provided total file size."


def png_header(width: int, height: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", width, height) + b"\0" * 20


# -- happy paths ----------------------------------------------------------------------------------


def test_chunked_upload_is_byte_exact(client, anon, emulator):
    data = random_bytes(3 * MIB + 12345)
    init = client.post(
        "/2/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": len(data), "media_category": "tweet_video"},
    )
    assert init.status_code == 200
    assert init.headers["content-type"] == "application/json"
    body = init.json()["data"]
    media_id = body["id"]
    assert len(media_id) == 19 and media_id.isdigit()
    assert body["media_key"] == f"7_{media_id}"
    assert body["expires_after_secs"] == 86400

    for index, chunk in enumerate(split(data, MIB)):
        response = append_v2(client, media_id, index, chunk)
        assert response.status_code == 200, response.text
        expires_at = response.json()["data"]["expires_at"]
        assert isinstance(expires_at, int) and expires_at > time.time() + 86000

    final = client.post(f"/2/media/upload/{media_id}/finalize")
    assert final.status_code == 200, final.text
    assert final.json()["data"] == {
        "id": media_id,
        "media_key": f"7_{media_id}",
        "size": len(data),
        "expires_after_secs": final.json()["data"]["expires_after_secs"],
        "processing_info": {"state": "pending", "check_after_secs": 1},
        "video": {"video_type": "video/mp4"},
    }

    info = inspect(anon, media_id)
    assert info["sha256"] == sha256(data)
    assert info["size"] == info["total_bytes"] == info["received_bytes"] == len(data)
    assert info["segments_received"] == 4 and info["finalized"] is True
    assert info["media_type"] == "video/mp4" and info["media_category"] == "tweet_video"
    assert info["processing_state"] == "pending"
    assert info["finalized_at"] >= info["created_at"]
    # Assembled into one file; the segment files are gone.
    x_dir = Path(emulator.config.data_dir) / "x"
    assert (x_dir / f"{media_id}.bin").read_bytes() == data
    assert not (x_dir / f"{media_id}.segments").exists()


def test_in_order_upload_is_assembled_while_it_arrives(client, anon, emulator):
    data = random_bytes(8 * 256 * 1024)
    media_id = upload_v2(client, data, segment_size=256 * 1024)
    partial = Path(emulator.config.data_dir) / "x" / f"{media_id}.inorder"
    deadline = time.monotonic() + 30  # a wait for an event, not a bound: generous for a busy machine
    while not (partial.exists() and partial.stat().st_size == len(data)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert partial.stat().st_size == len(data)  # FINALIZE only has to rename it
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(data)
    assert not partial.exists()


def test_ids_are_unique_and_time_ordered(client):
    ids = [init_v2(client, 10) for _ in range(20)]
    assert len(set(ids)) == 20
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)


async def test_out_of_order_concurrent_segments(emulator, anon):
    data = random_bytes(40 * 64 * 1024)
    chunks = split(data, 64 * 1024)
    order = list(range(len(chunks)))
    random.shuffle(order)
    async with httpx.AsyncClient(base_url=emulator.url, headers=BEARER, timeout=30) as client:
        init = await client.post(
            "/2/media/upload/initialize", json={"media_type": "video/mp4", "total_bytes": len(data)}
        )
        media_id = init.json()["data"]["id"]

        async def send(index: int) -> int:
            response = await client.post(
                f"/2/media/upload/{media_id}/append",
                data={"segment_index": str(index)},
                files={"media": ("blob", chunks[index])},
            )
            return response.status_code

        statuses = await asyncio.gather(*(send(i) for i in order))
        assert set(statuses) == {200}
        final = await client.post(f"/2/media/upload/{media_id}/finalize")
        assert final.status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(data)


def test_resent_segment_replaces_the_earlier_copy(client, anon):
    data = random_bytes(3000)
    media_id = init_v2(client, len(data))
    assert append_v2(client, media_id, 0, b"x" * 1000).status_code == 200
    assert append_v2(client, media_id, 1, data[1000:2000]).status_code == 200
    assert append_v2(client, media_id, 0, data[:1000]).status_code == 200  # a retry with the right bytes
    assert append_v2(client, media_id, 2, data[2000:]).status_code == 200
    assert inspect(anon, media_id)["segments_received"] == 3
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(data)


def test_json_append_with_base64_media(client, anon):
    data = random_bytes(5000)
    media_id = init_v2(client, len(data), media_type="image/png", media_category="tweet_image")
    for index, chunk in enumerate(split(data, 2048)):
        response = client.post(
            f"/2/media/upload/{media_id}/append",
            json={"media": base64.b64encode(chunk).decode(), "segment_index": index},
        )
        assert response.status_code == 200, response.text
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(data)


def test_media_as_plain_multipart_field(client, anon):
    data = b"plain-field-bytes"
    media_id = init_v2(client, len(data))
    content, headers = multipart({"segment_index": b"0", "media": data})  # no filename: a plain field
    response = client.post(f"/2/media/upload/{media_id}/append", content=content, headers=headers)
    assert response.status_code == 200, response.text
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(data)


def test_empty_upload_finalizes(client, anon):
    media_id = init_v2(client, 0, media_type="image/png")
    assert client.post(f"/2/media/upload/{media_id}/finalize").json()["data"]["size"] == 0
    assert inspect(anon, media_id)["sha256"] == sha256(b"")


@pytest.mark.parametrize(
    ("media_type", "category", "prefix", "processed", "details"),
    [
        ("image/png", "tweet_image", "3", False, {"image": {"image_type": "image/png", "w": 640, "h": 480}}),
        ("image/png", None, "3", False, {"image": {"image_type": "image/png", "w": 640, "h": 480}}),
        ("image/gif", "tweet_gif", "16", True, {"video": {"video_type": "video/mp4"}}),
        ("image/gif", None, "16", True, {"video": {"video_type": "video/mp4"}}),
        ("video/mp4", "amplify_video", "13", True, {"video": {"video_type": "video/mp4"}}),
        ("video/quicktime", "dm_video", "7", True, {"video": {"video_type": "video/quicktime"}}),
        ("text/srt", "subtitles", "3", False, {}),
    ],
)
def test_finalize_shape_per_category(client, media_type, category, prefix, processed, details):
    data = png_header(640, 480) if media_type == "image/png" else random_bytes(100)
    extra = {"media_category": category} if category else {}
    media_id = upload_v2(client, data, media_type=media_type, **extra)
    final = client.post(f"/2/media/upload/{media_id}/finalize").json()["data"]
    assert final["media_key"] == f"{prefix}_{media_id}"
    assert ("processing_info" in final) is processed
    for key in ("image", "video"):
        assert final.get(key) == details.get(key)


# -- initialize validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"media_type": "video/mp4", "total_bytes": 1, "command": "INIT"}, "command"),
        ({"total_bytes": 1}, "media_type"),
        ({"media_type": "video/avi", "total_bytes": 1}, "media_type"),
        ({"media_type": 5, "total_bytes": 1}, "media_type"),
        ({"media_type": "video/mp4", "total_bytes": 1, "media_category": "tweet_audio"}, "media_category"),
        ({"media_type": "video/mp4"}, "total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": "10"}, "total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": 1.5}, "total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": True}, "total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": -1}, "total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": 17179869185}, "total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": 1, "shared": "yes"}, "shared"),
        ({"media_type": "video/mp4", "total_bytes": 1, "additional_owners": ["12a"]}, "additional_owners"),
        ({"media_type": "video/mp4", "total_bytes": 1, "additional_owners": "123"}, "additional_owners"),
        ({"media_type": "image/png", "total_bytes": 5 * MIB + 1, "media_category": "tweet_image"}, "total_bytes"),
        ({"media_type": "image/jpeg", "total_bytes": 5 * MIB + 1}, "total_bytes"),  # inferred tweet_image
        ({"media_type": "image/gif", "total_bytes": 15 * MIB + 1}, "total_bytes"),
        ({"media_type": "video/mp4", "total_bytes": 512 * MIB + 1}, "total_bytes"),
        ({"media_type": "text/vtt", "total_bytes": 512 * 1024 + 1}, "total_bytes"),
    ],
)
def test_initialize_rejects(client, body, parameter):
    response = client.post("/2/media/upload/initialize", json=body)
    problem = assert_invalid_request(response, parameter)
    assert "value" in problem or parameter in ("media_type", "total_bytes")


def test_initialize_problem_names_the_value(client):
    response = client.post("/2/media/upload/initialize", json={"media_type": "video/avi", "total_bytes": 1})
    problem = assert_invalid_request(response, "media_type")
    assert problem["value"] == "video/avi"
    assert "video/mp4" in problem["detail"]


def test_initialize_accepts_all_optional_fields(client):
    body = {
        "media_type": "video/mp4",
        "total_bytes": 17179869184,
        "media_category": "amplify_video",
        "shared": True,
        "additional_owners": ["1", "1234567890123456789"],
    }
    response = client.post("/2/media/upload/initialize", json=body)
    # 16 GiB is within the spec but above amplify_video's 512 MiB limit...
    assert_invalid_request(response, "total_bytes")
    body["total_bytes"] = 512 * MIB
    assert client.post("/2/media/upload/initialize", json=body).status_code == 200


def test_size_limits_can_be_switched_off(client, emulator):
    emulator.config.x.enforce_size_limits = False
    init_v2(client, 10 * MIB, media_type="image/png", media_category="tweet_image")


@pytest.mark.parametrize(
    "content", [b"not json", b"[1, 2]", b'{"media_type": "video/mp4", "total_bytes": 1'], ids=["text", "array", "cut"]
)
def test_initialize_rejects_bad_json(client, content):
    response = client.post("/2/media/upload/initialize", content=content, headers={"Content-Type": "application/json"})
    assert_invalid_request(response)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"media_type=video%2Fmp4&total_bytes=1", "application/x-www-form-urlencoded"), (b"{}", "text/plain")],
    ids=["urlencoded", "text"],
)
def test_initialize_needs_json_content_type(client, content, content_type):
    response = client.post("/2/media/upload/initialize", content=content, headers={"Content-Type": content_type})
    assert_invalid_request(response, "Content-Type")


# -- append validation ----------------------------------------------------------------------------


def test_append_to_malformed_id(client):
    response = append_v2(client, "12ab", 0, b"data")
    assert_invalid_request(response, "id")


def test_append_to_unknown_id_is_404(client):
    response = append_v2(client, "1234567890123456789", 0, b"data")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://api.x.com/2/problems/resource-not-found",
        "title": "Not Found Error",
        "detail": response.json()["detail"],
        "status": 404,
        "resource_type": "media",
        "resource_id": "1234567890123456789",
        "parameter": "id",
        "value": "1234567890123456789",
    }


@pytest.mark.parametrize(
    ("parts", "parameter"),
    [
        ({"segment_index": b"0"}, "media"),
        ({"media": b"data"}, "segment_index"),
        ({"segment_index": b"1000", "media": b"data"}, "segment_index"),
        ({"segment_index": b"-1", "media": b"data"}, "segment_index"),
        ({"segment_index": b"one", "media": b"data"}, "segment_index"),
        ({"segment_index": b"0", "media": b"data", "command": b"APPEND"}, "command"),
        ({"segment_index": b"0", "media": b""}, "media"),
    ],
)
def test_append_rejects_multipart(client, parts, parameter):
    media_id = init_v2(client, 100)
    content, headers = multipart(parts)
    response = client.post(f"/2/media/upload/{media_id}/append", content=content, headers=headers)
    assert_invalid_request(response, parameter)


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"segment_index": 0}, "media"),
        ({"media": "AAAA"}, "segment_index"),
        ({"media": "AAAA", "segment_index": 1.5}, "segment_index"),
        ({"media": "AAAA", "segment_index": True}, "segment_index"),
        ({"media": "not base64!", "segment_index": 0}, "media"),
        ({"media": 12, "segment_index": 0}, "media"),
    ],
)
def test_append_rejects_json(client, body, parameter):
    media_id = init_v2(client, 100)
    response = client.post(f"/2/media/upload/{media_id}/append", json=body)
    assert_invalid_request(response, parameter)


def test_append_rejects_other_content_types(client):
    media_id = init_v2(client, 100)
    response = client.post(
        f"/2/media/upload/{media_id}/append", content=b"raw", headers={"Content-Type": "application/octet-stream"}
    )
    assert_invalid_request(response)


def test_append_rejects_oversized_segment(client, emulator, anon):
    emulator.config.x.max_segment_bytes = 4096
    media_id = init_v2(client, 10_000)
    response = append_v2(client, media_id, 0, random_bytes(4097))
    problem = assert_invalid_request(response, "media")
    assert "4096" in problem["detail"]
    assert append_v2(client, media_id, 0, random_bytes(4096)).status_code == 200
    base64_too_big = {"media": base64.b64encode(random_bytes(4097)).decode(), "segment_index": 1}
    assert_invalid_request(client.post(f"/2/media/upload/{media_id}/append", json=base64_too_big), "media")
    assert inspect(anon, media_id)["segment_indexes"] == [0]


def test_default_segment_limit_is_5_mib(client):
    media_id = init_v2(client, 6 * MIB)
    assert append_v2(client, media_id, 0, random_bytes(5 * MIB)).status_code == 200
    assert_invalid_request(append_v2(client, media_id, 1, random_bytes(5 * MIB + 1)), "media")


def test_append_after_expiry(client, anon):
    media_id = init_v2(client, 100)
    assert append_v2(client, media_id, 0, b"a" * 50).status_code == 200
    assert anon.post(f"/_emulator/x/media/{media_id}/expire").json()["expired"] is True
    problem = assert_invalid_request(append_v2(client, media_id, 1, b"b" * 50))
    assert "expired" in problem["detail"]
    assert "expired" in assert_invalid_request(client.post(f"/2/media/upload/{media_id}/finalize"))["detail"]


def test_sessions_expire_after_configured_time(client, emulator, clock):
    emulator.config.x.expires_after_secs = 1
    media_id = init_v2(client, 100)
    clock.advance(1)
    assert "expired" in assert_invalid_request(append_v2(client, media_id, 0, b"a"))["detail"]


def test_append_after_finalize(client):
    media_id = upload_v2(client, b"abc")
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    problem = assert_invalid_request(append_v2(client, media_id, 1, b"d"))
    assert "finalized" in problem["detail"]


def test_rejected_large_append_still_gets_its_answer(client):
    """The server drains the body it refuses, so the client reads a 4xx, not a broken pipe."""
    response = append_v2(client, "1234567890123456789", 0, random_bytes(4 * MIB))
    assert response.status_code == 404
    anon_response = httpx.post(
        f"{client.base_url}/2/media/upload/1/append", files={"media": ("b", random_bytes(4 * MIB))}
    )
    assert anon_response.status_code == 401


# -- finalize -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segments",
    [
        [b"a" * 10, b"b" * 10],  # missing bytes
        [b"a" * 10, b"b" * 10, b"c" * 10, b"d"],  # extra bytes
        None,  # gap: segments 0 and 2 only
    ],
    ids=["missing-bytes", "extra-bytes", "gap"],
)
def test_finalize_rejects_wrong_segments(client, segments):
    media_id = init_v2(client, 30)
    if segments is None:
        append_v2(client, media_id, 0, b"a" * 15)
        append_v2(client, media_id, 2, b"c" * 15)
    else:
        for index, chunk in enumerate(segments):
            assert append_v2(client, media_id, index, chunk).status_code == 200
    problem = assert_invalid_request(client.post(f"/2/media/upload/{media_id}/finalize"))
    assert problem["detail"] == SEGMENTS_MISMATCH


def test_failed_finalize_can_be_fixed_and_retried(client, anon):
    media_id = init_v2(client, 20)
    append_v2(client, media_id, 0, b"a" * 10)
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 400
    append_v2(client, media_id, 1, b"b" * 10)
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(b"a" * 10 + b"b" * 10)


def test_finalize_twice(client):
    media_id = upload_v2(client, b"abc")
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert "finalized" in assert_invalid_request(client.post(f"/2/media/upload/{media_id}/finalize"))["detail"]


def test_finalize_unknown_and_malformed(client):
    assert client.post("/2/media/upload/999/finalize").status_code == 404
    assert_invalid_request(client.post("/2/media/upload/abc/finalize"), "id")


# -- status and processing ------------------------------------------------------------------------


def test_processing_goes_pending_in_progress_succeeded(client, emulator, clock):
    emulator.config.x.processing_seconds = 1.2
    emulator.config.x.check_after_secs = 2
    media_id = upload_v2(client, b"video", media_category="tweet_video")
    client.post(f"/2/media/upload/{media_id}/finalize")
    first = status_v2(client, media_id)
    assert first.status_code == 200
    assert first.json()["data"]["processing_info"] == {"state": "pending", "check_after_secs": 2}
    clock.advance(0.5)
    middle = status_v2(client, media_id).json()["data"]
    assert middle["processing_info"]["state"] == "in_progress"
    assert middle["processing_info"]["progress_percent"] == 41  # 0.5 s of 1.2
    assert middle["processing_info"]["check_after_secs"] == 2
    assert middle["video"] == {"video_type": "video/mp4"}
    clock.advance(0.8)
    done = status_v2(client, media_id).json()["data"]
    assert done["processing_info"] == {"state": "succeeded", "progress_percent": 100}
    assert done["id"] == media_id and done["size"] == 5 and done["media_key"] == f"7_{media_id}"


def test_processing_seconds_zero_succeeds_at_first_status(client, emulator):
    emulator.config.x.processing_seconds = 0
    media_id = upload_v2(client, b"gif", media_type="image/gif", media_category="tweet_gif")
    final = client.post(f"/2/media/upload/{media_id}/finalize").json()["data"]
    assert final["processing_info"]["state"] == "pending"
    assert status_v2(client, media_id).json()["data"]["processing_info"]["state"] == "succeeded"


def test_processing_failure_from_config(client, emulator, anon):
    emulator.config.x.processing_seconds = 0
    emulator.config.x.processing_outcome = "failed"
    media_id = upload_v2(client, b"video")
    client.post(f"/2/media/upload/{media_id}/finalize")
    info = status_v2(client, media_id).json()["data"]["processing_info"]
    assert info == {
        "state": "failed",
        "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"},
    }
    assert inspect(anon, media_id)["processing_state"] == "failed"


def test_processing_failure_per_media(client, emulator, anon):
    emulator.config.x.processing_seconds = 0
    good = upload_v2(client, b"video")
    bad = upload_v2(client, b"video")
    error = {"code": 3, "name": "UnsupportedMedia", "message": "Duration too long"}
    response = anon.post(f"/_emulator/x/media/{bad}/processing", json={"outcome": "failed", "error": error})
    assert response.status_code == 200
    for media_id in (good, bad):
        client.post(f"/2/media/upload/{media_id}/finalize")
    assert status_v2(client, good).json()["data"]["processing_info"]["state"] == "succeeded"
    assert status_v2(client, bad).json()["data"]["processing_info"] == {"state": "failed", "error": error}


def test_status_of_unprocessed_media(client):
    media_id = upload_v2(client, png_header(3, 2), media_type="image/png")
    client.post(f"/2/media/upload/{media_id}/finalize")
    data = status_v2(client, media_id).json()["data"]
    assert data["processing_info"] == {"state": "succeeded", "progress_percent": 100}
    assert data["image"] == {"image_type": "image/png", "w": 3, "h": 2}


def test_status_without_command_parameter(client):
    media_id = upload_v2(client, b"v")
    client.post(f"/2/media/upload/{media_id}/finalize")
    assert client.get("/2/media/upload", params={"media_id": media_id}).status_code == 200


def test_status_errors(client):
    media_id = upload_v2(client, b"v")
    assert "not finalized" in assert_invalid_request(status_v2(client, media_id), "media_id")["detail"]
    assert_invalid_request(client.get("/2/media/upload", params={"command": "STATUS"}), "media_id")
    assert_invalid_request(client.get("/2/media/upload", params={"media_id": "x1"}), "media_id")
    assert_invalid_request(client.get("/2/media/upload", params={"media_id": media_id, "command": "INIT"}), "command")
    assert_invalid_request(client.get("/2/media/upload", params={"media_id": media_id, "foo": "1"}), "foo")
    assert status_v2(client, "1234567890").status_code == 404


# -- rate limits ----------------------------------------------------------------------------------


def test_rate_limit_headers_on_every_response(client, clock):
    first = client.post("/2/media/upload/initialize", json={"media_type": "video/mp4", "total_bytes": 1})
    second = client.post("/2/media/upload/initialize", json={"media_type": "video/avi", "total_bytes": 1})
    status = client.get("/2/media/upload", params={"media_id": "1"})
    assert first.headers["x-rate-limit-limit"] == "1875"
    assert int(first.headers["x-rate-limit-remaining"]) == 1874
    assert int(second.headers["x-rate-limit-remaining"]) == 1873
    assert int(first.headers["x-rate-limit-reset"]) == math.ceil(clock.time() + 900)  # the window began with it
    assert status.headers["x-rate-limit-limit"] == "1000"
    assert status.headers["x-rate-limit-remaining"] == "999"


def test_rate_limit_exhausted_gives_429(client, emulator, clock):
    emulator.config.x.rate_limit = 2
    emulator.config.x.rate_limit_window_secs = 1
    media_id = init_v2(client, 1)
    assert append_v2(client, media_id, 0, b"a").status_code == 200
    limited = client.post(f"/2/media/upload/{media_id}/finalize")
    assert limited.status_code == 429
    assert limited.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert limited.headers["x-rate-limit-limit"] == "2"
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert int(limited.headers["x-rate-limit-reset"]) == math.ceil(clock.time() + 1)  # whole seconds, rounded up
    # The status bucket is separate.
    assert status_v2(client, media_id).status_code == 400
    clock.advance(1)  # the window is exactly 1 s
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200


# -- auth -----------------------------------------------------------------------------------------

UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
FORBIDDEN = {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}
INIT_BODY = {"media_type": "video/mp4", "total_bytes": 1}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "OAuth garbage"},
    ],
    ids=["missing", "empty", "wrong-bearer", "basic", "bearer-without-token", "oauth-garbage"],
)
def test_unauthorized(anon, headers):
    response = anon.post("/2/media/upload/initialize", json=INIT_BODY, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == UNAUTHORIZED
    assert "x-rate-limit-remaining" in response.headers


def test_token_without_media_write_is_forbidden(anon):
    headers = {"Authorization": "Bearer chunkup-emulator-no-media-write"}
    for response in (
        anon.post("/2/media/upload/initialize", json=INIT_BODY, headers=headers),
        anon.get("/2/media/upload", params={"media_id": "1"}, headers=headers),
    ):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == FORBIDDEN


def test_bearer_tokens_come_from_live_config(anon, emulator):
    headers = {"Authorization": "Bearer fresh-token"}
    assert anon.post("/2/media/upload/initialize", json=INIT_BODY, headers=headers).status_code == 401
    emulator.config.x.bearer_tokens.add("fresh-token")
    assert anon.post("/2/media/upload/initialize", json=INIT_BODY, headers=headers).status_code == 200


def test_oauth1_signed_requests_are_accepted(emulator, anon):
    data = random_bytes(3000)
    with httpx.Client(base_url=emulator.url, auth=OAuth1()) as signed:
        media_id = init_v2(signed, len(data))
        for index, chunk in enumerate(split(data, 1000)):
            assert append_v2(signed, media_id, index, chunk).status_code == 200
        assert signed.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
        # Query parameters are part of the signature base string.
        assert status_v2(signed, media_id).status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(data)


def test_oauth1_hmac_sha256_is_accepted(emulator):
    with httpx.Client(base_url=emulator.url, auth=OAuth1(signature_method="HMAC-SHA256")) as signed:
        assert signed.post("/2/media/upload/initialize", json=INIT_BODY).status_code == 200


@pytest.mark.parametrize(
    "auth",
    [
        OAuth1(consumer_secret="wrong"),
        OAuth1(token_secret="wrong"),
        OAuth1(consumer_key="unknown-key"),
        OAuth1(token="unknown-token"),
        OAuth1(timestamp=str(int(time.time()) - 3600)),
    ],
    ids=["consumer-secret", "token-secret", "consumer-key", "token", "stale-timestamp"],
)
def test_oauth1_bad_credentials_are_rejected(emulator, auth):
    with httpx.Client(base_url=emulator.url, auth=auth) as signed:
        response = signed.post("/2/media/upload/initialize", json=INIT_BODY)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_oauth1_signature_covers_the_query(emulator):
    """A signature made for one query string does not validate another."""
    auth = OAuth1()
    request = httpx.Request("GET", f"{emulator.url}/2/media/upload?media_id=1&command=STATUS")
    signed = next(auth.auth_flow(request))
    tampered = httpx.get(
        f"{emulator.url}/2/media/upload?media_id=2&command=STATUS",
        headers={"Authorization": signed.headers["Authorization"]},
    )
    assert tampered.status_code == 401


def test_oauth1_signature_covers_the_host(emulator):
    auth = OAuth1()
    request = httpx.Request("POST", "http://api.x.com/2/media/upload/initialize", json=INIT_BODY)
    signed = next(auth.auth_flow(request))
    response = httpx.post(
        f"{emulator.url}/2/media/upload/initialize",
        json=INIT_BODY,
        headers={"Authorization": signed.headers["Authorization"]},
    )
    assert response.status_code == 401


# -- config steering over HTTP --------------------------------------------------------------------


def test_patched_config_applies_to_next_request(client, anon, emulator):
    response = anon.patch("/_emulator/config", json={"x": {"processing_seconds": 0, "rate_limit": 2}})
    assert response.status_code == 200
    assert response.json()["x"]["rate_limit"] == 2
    assert emulator.config.x.processing_seconds == 0
    media_id = upload_v2(client, b"v")  # 2 upload calls: the limit
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 429


def test_json_body_is_not_mistaken_for_config(anon):
    # PATCH with a non-object, or a wrong type, changes nothing.
    before = anon.get("/_emulator/config").json()
    assert anon.patch("/_emulator/config", content=json.dumps([1])).status_code == 400
    assert anon.patch("/_emulator/config", json={"x": {"rate_limit": "many"}}).status_code == 400
    assert anon.get("/_emulator/config").json() == before
