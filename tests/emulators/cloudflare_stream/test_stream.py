"""Cloudflare Stream's API on the emulator: tus creation, direct creator uploads, basic uploads, auth, status,
deletion, rate limits."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import httpx
import pytest

from .helpers import (
    ACCOUNT,
    CONTROL,
    MIN_CHUNK,
    STREAM,
    b64,
    create,
    head,
    inspect,
    new_video,
    patch,
    sha256,
    upload_all,
)


def assert_envelope_error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["result"] is None and body["messages"] == []
    [error] = body["errors"]
    assert error["code"] == code and error["message"]
    return error["message"]


def get_result(cf: httpx.Client, uid: str) -> dict:
    response = cf.get(f"{STREAM}/{uid}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    return body["result"]


def test_tus_creation_answers_location_and_stream_media_id(cf, emulator):
    response = create(cf, 12_288, f"name {b64('clip.mp4')}", Upload_Creator="creator-7")
    assert response.status_code == 201 and response.headers["tus-resumable"] == "1.0.0"
    uid = response.headers["stream-media-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", uid)
    assert response.headers["location"] == f"{emulator.url}{STREAM.rsplit('/', 1)[0]}/media/{uid}"
    assert "upload-expires" in response.headers
    result = get_result(cf, uid)
    assert result["uid"] == uid and result["creator"] == "creator-7" and result["meta"] == {"name": "clip.mp4"}
    assert result["size"] == 12_288 and result["readyToStream"] is False and result["readyToStreamAt"] is None
    assert result["status"] == {"state": "pendingupload", "pctComplete": "0.000000", "errorReasonCode": "",
                                "errorReasonText": ""}  # fmt: skip


def test_metadata_keys_are_read_and_others_kept_as_meta(cf, anon):
    metadata = ",".join([
        f"name {b64('My video')}", "requiresignedurls", f"allowedorigins {b64('example.com,*.example.org')}",
        f"thumbnailtimestamppct {b64('0.5')}", f"scheduleddeletion {b64('2030-01-01T00:00:00Z')}",
        f"maxdurationseconds {b64('600')}", f"watermark {b64('wm-uid')}", f"expiry {b64('2030-01-01T00:00:00Z')}",
        f"project {b64('alpha')}",
    ])  # fmt: skip
    uid, _ = new_video(cf, 100, metadata)
    result = get_result(cf, uid)
    assert result["meta"] == {"name": "My video", "project": "alpha"}
    assert result["requireSignedURLs"] is True and result["allowedOrigins"] == ["example.com", "*.example.org"]
    assert result["thumbnailTimestampPct"] == 0.5 and result["scheduledDeletion"] == "2030-01-01T00:00:00Z"
    assert result["maxDurationSeconds"] == 600 and result["watermark"] == {"uid": "wm-uid"}
    assert result["uploadExpiry"].startswith("2030-01-01T00:00:00")
    info = inspect(anon, uid)
    assert info["require_signed_urls"] is True and info["max_duration_seconds"] == 600


@pytest.mark.parametrize(
    ("length", "metadata", "headers", "status", "words"),
    [
        (None, None, {}, 400, "Upload-Length"),
        (None, None, {"Upload-Defer-Length": "1"}, 400, "creation-defer-length"),
        (0, None, {}, 400, "at least 1 byte"),
        (30_000_000_001, None, {}, 413, "Tus-Max-Size"),
        (10, f"thumbnailtimestamppct {b64('2')}", {}, 400, "thumbnailtimestamppct"),
        (10, f"expiry {b64('tomorrow')}", {}, 400, "RFC 3339"),
        (10, f"maxdurationseconds {b64('-1')}", {}, 400, "maxdurationseconds"),
        (10, "name !!", {}, 400, "base64"),
        (10, None, {"Tus-Resumable": "0.2.2"}, 412, "1.0.0"),
    ],
)
def test_creation_refusals_leave_nothing(cf, anon, length, metadata, headers, status, words):
    response = create(cf, length, metadata, **headers)
    assert words in assert_envelope_error(response, status, 10005)
    assert response.headers["tus-resumable"] == "1.0.0"
    assert anon.get(f"{CONTROL}/videos").json() == []


def test_a_creation_body_is_refused(cf):
    response = cf.post(STREAM, content=b"abc", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "3",
                                                        "Content-Type": "application/offset+octet-stream"})  # fmt: skip
    assert "creation-with-upload" in assert_envelope_error(response, 400, 10005)


def test_without_tus_and_without_multipart_the_answer_says_how(cf):
    message = assert_envelope_error(cf.post(STREAM, json={}), 400, 10005)
    assert "Tus-Resumable" in message and "multipart" in message


def test_basic_multipart_upload(cf, anon, emulator):
    data = os.urandom(30_000)
    response = cf.post(STREAM, files={"file": ("clip.mp4", data, "video/mp4")})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["meta"] == {"name": "clip.mp4"} and result["size"] == len(data)
    assert result["status"]["state"] == "queued"
    info = inspect(anon, result["uid"])
    assert info["via"] == "basic" and info["sha256"] == sha256(data)
    emulator.config.cloudflare_stream.basic_max_bytes = 1000
    too_big = cf.post(STREAM, files={"file": ("clip.mp4", data, "video/mp4")})
    assert "tus" in assert_envelope_error(too_big, 413, 10005)
    assert "'file'" in assert_envelope_error(cf.post(STREAM, files={"video": ("a", b"abc")}), 400, 10005)


@pytest.mark.parametrize(("header", "status"), [(None, 401), ("Bearer nope", 403), ("Basic Y2YtdG9rZW4=", 401)])
def test_api_and_media_urls_need_the_token(cf, emulator, header, status):
    uid, location = new_video(cf, 10)
    headers = {"Authorization": header} if header else {}
    with httpx.Client(base_url=emulator.url, headers=headers) as other:
        assert assert_envelope_error(create(other, 10), status, 10000) == "Authentication error"
        assert_envelope_error(other.get(f"{STREAM}/{uid}"), status, 10000)
        assert_envelope_error(other.delete(f"{STREAM}/{uid}"), status, 10000)
        refused = patch(other, location, 0, b"0123456789")
        assert_envelope_error(refused, status, 10000)
        assert refused.headers["tus-resumable"] == "1.0.0"
        assert head(other, location).status_code == status
    assert head(cf, location).headers["upload-offset"] == "0"


def test_account_ids_restrict_accounts(cf, emulator):
    emulator.config.cloudflare_stream.account_ids = ["other"]
    assert_envelope_error(create(cf, 10), 403, 10000)
    emulator.config.cloudflare_stream.account_ids = [ACCOUNT]
    assert create(cf, 10).status_code == 201


def test_direct_creator_upload_needs_no_auth(cf, anon, emulator):
    data = os.urandom(2 * MIN_CHUNK + 100)
    uid, location = new_video(cf, len(data), f"name {b64('from a user')}", direct_user=True, Upload_Creator="u1")
    assert location == f"{emulator.url}/cloudflare/tus/{uid}?tusv2=true"
    assert head(anon, location).headers["upload-length"] == str(len(data))
    upload_all(anon, location, data)
    info = inspect(anon, uid)
    assert info["direct_user"] is True and info["creator"] == "u1" and info["sha256"] == sha256(data)
    assert info["location"] == f"/cloudflare/tus/{uid}"
    token_uid, _ = new_video(cf, 10)
    assert head(anon, f"{emulator.url}/cloudflare/tus/{token_uid}").status_code == 404


def test_states_follow_the_clock(cf, clock, emulator):
    config = emulator.config.cloudflare_stream
    config.queued_secs, config.encode_secs = 1.0, 5.0
    data = os.urandom(MIN_CHUNK + 10)
    uid, location = new_video(cf, len(data))
    assert patch(cf, location, 0, data[:MIN_CHUNK]).status_code == 204
    assert get_result(cf, uid)["status"]["state"] == "pendingupload"
    assert patch(cf, location, MIN_CHUNK, data[MIN_CHUNK:]).status_code == 204
    assert get_result(cf, uid)["status"] == {"state": "queued", "pctComplete": "0.000000", "errorReasonCode": "",
                                             "errorReasonText": ""}  # fmt: skip
    clock.advance(3.0)
    result = get_result(cf, uid)
    assert result["status"]["state"] == "inprogress" and result["status"]["pctComplete"] == "50.000000"
    assert result["readyToStream"] is False and result["uploaded"] is not None
    clock.advance(2.0)
    result = get_result(cf, uid)
    assert result["status"]["state"] == "ready" and result["status"]["pctComplete"] == "100.000000"
    assert result["readyToStream"] is True and result["readyToStreamAt"].endswith("Z")


def test_encoding_failure_fault(cf, anon, clock, emulator):
    emulator.config.cloudflare_stream.encode_failure_rate = 1.0
    uid, location = new_video(cf, 10)
    assert patch(cf, location, 0, b"0123456789").status_code == 204
    clock.advance(emulator.config.cloudflare_stream.encode_secs)
    result = get_result(cf, uid)
    assert result["status"]["state"] == "error" and result["status"]["errorReasonCode"] == "ERR_MALFORMED_VIDEO"
    assert result["status"]["errorReasonText"] and result["readyToStream"] is False
    assert anon.get("/_emulator/faults").json()["injected"]["cloudflare_stream_encode"] == 1


def test_delete_then_404_everywhere(cf, anon):
    uid, location = new_video(cf, 10)
    deleted = cf.delete(f"{STREAM}/{uid}")
    assert deleted.status_code == 200 and deleted.json() == {"result": None, "success": True, "errors": [],
                                                            "messages": []}  # fmt: skip
    assert_envelope_error(cf.get(f"{STREAM}/{uid}"), 404, 10003)
    assert_envelope_error(cf.delete(f"{STREAM}/{uid}"), 404, 10003)
    assert head(cf, location).status_code == 404 and patch(cf, location, 0, b"0123456789").status_code == 404
    assert inspect(anon, uid)["deleted"] is True


def test_unknown_or_other_accounts_video_is_404(cf):
    uid, _ = new_video(cf, 10)
    assert_envelope_error(cf.get(f"{STREAM}/{'0' * 32}"), 404, 10003)
    assert_envelope_error(cf.get(f"/client/v4/accounts/another/stream/{uid}"), 404, 10003)


def test_rate_limit_per_token(cf, emulator, clock):
    config = emulator.config.cloudflare_stream
    config.rate_limit, config.tokens = 2, ["cf-token", "cf-other"]
    first = create(cf, 10)
    assert first.headers["ratelimit"] == '"default";r=1;t=300'
    assert first.headers["ratelimit-policy"] == '"default";q=2;w=300'
    uid = first.headers["stream-media-id"]
    assert cf.get(f"{STREAM}/{uid}").status_code == 200
    limited = cf.get(f"{STREAM}/{uid}")
    assert_envelope_error(limited, 429, 971)
    assert limited.headers["retry-after"] == "300" and limited.headers["ratelimit"] == '"default";r=0;t=300'
    other = cf.get(f"{STREAM}/{uid}", headers={"Authorization": "Bearer cf-other"})
    assert other.status_code == 200
    clock.advance(300)
    assert cf.get(f"{STREAM}/{uid}").status_code == 200


def test_injected_429_on_the_api_and_on_a_direct_url(cf, anon):
    _, location = new_video(cf, 10, direct_user=True)
    rules = [{"match": "^GET /client/v4/", "action": "rate_limit", "retry_after_secs": 7},
             {"match": "^PATCH /cloudflare/tus/", "action": "rate_limit", "retry_after_secs": 2}]  # fmt: skip
    assert anon.post("/_emulator/faults", json=rules).status_code == 201
    api = cf.get(f"{STREAM}/{'0' * 32}")
    assert_envelope_error(api, 429, 971)
    assert api.headers["retry-after"] == "7" and api.headers["ratelimit"] == '"default";r=0;t=7'
    tus = patch(anon, location, 0, b"0123456789")
    assert tus.status_code == 429 and tus.headers["retry-after"] == "2" and tus.headers["tus-resumable"] == "1.0.0"


def test_location_follows_the_host_the_request_named(cf, emulator):
    port = urlsplit(emulator.url).port
    response = cf.post(f"http://localhost:{port}{STREAM}", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "5"})
    assert response.headers["location"].startswith(f"http://localhost:{port}/client/v4/accounts/{ACCOUNT}/media/")
