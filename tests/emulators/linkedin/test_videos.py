"""LinkedIn on the emulator over HTTP: initialize, signed parts with ETags, finalize's empty body, status."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from .conftest import PART
from .helpers import (
    CONTROL,
    HEADERS,
    OWNER,
    assert_error,
    finalize,
    get_video,
    initialize,
    inspect,
    new_video,
    put_part,
    raw_put,
    upload_parts,
    wait_for,
)  # fmt: skip

SIZE = 2 * PART + 345


def test_initialize_finalize_byte_exact_through_processing(linkedin, anon, emulator, clock):
    data = os.urandom(SIZE)
    value = new_video(linkedin, SIZE)
    assert value["video"].startswith("urn:li:video:") and value["uploadToken"]
    assert value["uploadUrlsExpireAt"] == int((clock.time() + emulator.config.linkedin.upload_url_expiry_secs) * 1000)
    assert [(p["firstByte"], p["lastByte"]) for p in value["uploadInstructions"]] == [
        (0, PART - 1), (PART, 2 * PART - 1), (2 * PART, SIZE - 1)]
    assert all(p["uploadUrl"].startswith(f"{emulator.url}/linkedin-upload/") and "?sig=" in p["uploadUrl"]
               for p in value["uploadInstructions"])  # fmt: skip
    assert get_video(linkedin, value["video"]).json()["status"] == "WAITING_UPLOAD"
    etags = upload_parts(value, data, order=[2, 0, 1])  # any order
    assert len(set(etags)) == 3
    response = finalize(linkedin, value, etags)
    assert response.status_code == 200 and response.content == b""
    assert get_video(linkedin, value["video"]).json()["status"] == "PROCESSING"
    clock.advance(emulator.config.linkedin.processing_secs)
    video = get_video(linkedin, value["video"]).json()
    assert video["status"] == "AVAILABLE" and video["id"] == value["video"] and video["owner"] == OWNER
    assert anon.get(video["downloadUrl"]).content == data
    info = inspect(anon, value["video"])
    assert info["sha256"] == hashlib.sha256(data).hexdigest() and info["etags"] == etags
    assert info["status"] == "AVAILABLE"
    assert [p["lastByte"] for p in info["parts"]] == [PART - 1, 2 * PART - 1, SIZE - 1]
    assert anon.get(f"{CONTROL}/videos").json()[0]["urn"] == value["video"]
    stats = anon.get("/_emulator/stats").json()
    assert (stats["linkedin_videos"], stats["linkedin_parts"], stats["linkedin_videos_finalized"]) == (1, 3, 1)


def test_one_part_has_an_empty_upload_token(linkedin, anon):
    value = new_video(linkedin, PART)
    assert value["uploadToken"] == "" and len(value["uploadInstructions"]) == 1
    etags = upload_parts(value, b"x" * PART)
    assert finalize(linkedin, value, etags).status_code == 200
    assert inspect(anon, value["video"])["sha256"] == hashlib.sha256(b"x" * PART).hexdigest()


def test_default_parts_are_four_mib(emulator):
    with httpx.Client(base_url=emulator.url, headers=HEADERS) as api:
        value = new_video(api, 4 * 1024 * 1024 + 1)
    assert [(p["firstByte"], p["lastByte"]) for p in value["uploadInstructions"]] == [
        (0, 4 * 1024 * 1024 - 1), (4 * 1024 * 1024, 4 * 1024 * 1024)]


def test_a_failure_fault_ends_processing_failed(linkedin, anon, emulator, clock):
    emulator.config.linkedin.failure_rate = 1.0
    value = new_video(linkedin, 10)
    assert finalize(linkedin, value, upload_parts(value, b"0123456789")).status_code == 200
    clock.advance(emulator.config.linkedin.processing_secs)
    video = get_video(linkedin, value["video"]).json()
    assert video["status"] == "PROCESSING_FAILED" and "downloadUrl" not in video
    assert anon.get("/_emulator/faults").json()["injected"]["linkedin_processing_failed"] == 1


def test_finalize_refusals(linkedin, anon):
    data = os.urandom(SIZE)
    value = new_video(linkedin, SIZE)
    first = put_part(value["uploadInstructions"][0]["uploadUrl"], data[:PART]).headers["ETag"]
    assert_error(finalize(linkedin, value, [first]), 400, "not uploaded")
    etags = upload_parts(value, data)
    assert etags[0] == first  # the same bytes again: the same ETag
    assert_error(finalize(linkedin, value, etags[::-1]), 400, "instruction order")
    assert_error(finalize(linkedin, value, etags[:2]), 400, "instruction order")
    assert_error(finalize(linkedin, value, [*etags[:2], "bogus"]), 400, "instruction order")
    assert_error(finalize(linkedin, value, etags, uploadToken="other"), 400, "uploadToken")
    assert_error(finalize(linkedin, value, etags, video="urn:li:video:nope"), 404)
    bad = linkedin.post("/rest/videos", params={"action": "finalizeUpload"}, json={"finalizeUploadRequest": {}})
    assert_error(bad, 400, "finalizeUploadRequest needs")
    assert finalize(linkedin, value, etags).status_code == 200
    assert_error(finalize(linkedin, value, etags), 400, "already finalized")
    assert_error(put_part(value["uploadInstructions"][0]["uploadUrl"], data[:PART]), 400, "already finalized")


def test_part_refusals(linkedin, emulator, clock):
    value = new_video(linkedin, SIZE)
    url = value["uploadInstructions"][0]["uploadUrl"]
    assert_error(put_part(url, b"x" * (PART - 1)), 400, f"part 0 takes {PART} bytes")
    assert_error(put_part(url, b"x" * (PART + 1)), 400, f"part 0 takes {PART} bytes")
    assert_error(put_part(url.replace("sig=", "sig=0"), b"x" * PART), 404)
    assert_error(put_part(url.split("?")[0], b"x" * PART), 404)
    assert_error(put_part(url.replace("/0?", "/7?"), b"x" * PART), 404)
    clock.advance(emulator.config.linkedin.upload_url_expiry_secs)
    assert_error(put_part(url, b"x" * PART), 403, "expired")


def test_a_broken_body_stores_nothing_of_that_part(linkedin, anon):
    value = new_video(linkedin, 10)
    url = value["uploadInstructions"][0]["uploadUrl"]
    raw_put(url, 10, b"abcd").close()
    wait_for(lambda: anon.get("/_emulator/stats").json()["linkedin_broken_bodies"] == 1)
    assert inspect(anon, value["video"])["etags"] == [None]
    assert finalize(linkedin, value, upload_parts(value, b"0123456789")).status_code == 200


def test_captions_and_thumbnail_urls_when_asked(linkedin, anon):
    value = new_video(linkedin, 5, uploadCaptions=True, uploadThumbnail=True)
    assert put_part(value["captionsUploadUrl"], b"WEBVTT\n").status_code == 201
    assert put_part(value["thumbnailUploadUrl"], b"\x89PNG").status_code == 201
    assert inspect(anon, value["video"])["extras"] == {"captions": True, "thumbnail": True}
    assert "captionsUploadUrl" not in new_video(linkedin, 5)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "initializeUploadRequest"),
        ({"initializeUploadRequest": {"owner": "chunkup", "fileSizeBytes": 5}}, 400, "owner"),
        ({"initializeUploadRequest": {"owner": OWNER, "fileSizeBytes": 0}}, 400, "fileSizeBytes"),
        ({"initializeUploadRequest": {"owner": OWNER, "fileSizeBytes": "5"}}, 400, "fileSizeBytes"),
        ({"initializeUploadRequest": {"owner": OWNER, "fileSizeBytes": 6 * 1024**3}}, 400, "fileSizeBytes"),
        ({"initializeUploadRequest": {"owner": OWNER, "fileSizeBytes": 5, "uploadCaptions": "no"}}, 400,
         "uploadCaptions"),
        ({"initializeUploadRequest": {"owner": "urn:li:organization:1", "fileSizeBytes": 5}}, 403, "permissions"),
    ],
)
def test_initialize_refusals(linkedin, body, status, message):
    assert_error(linkedin.post("/rest/videos", params={"action": "initializeUpload"}, json=body), status, message)


def test_unknown_action_and_bad_json(linkedin):
    assert_error(linkedin.post("/rest/videos", params={"action": "upload"}, json={}), 400, "Unknown action")
    assert_error(linkedin.post("/rest/videos", params={"action": "initializeUpload"}, content=b"{"), 400, "JSON")


def test_headers_token_version_protocol(anon, linkedin, emulator):
    assert_error(initialize(anon, 5), 401, "Invalid access token", "INVALID_ACCESS_TOKEN")
    wrong = {**HEADERS, "Authorization": "Bearer nope"}
    response = anon.post("/rest/videos?action=initializeUpload", headers=wrong, json={})
    assert_error(response, 401, code="INVALID_ACCESS_TOKEN")
    refused = [("", 400, "VERSION_MISSING"), ("202001", 426, "NONEXISTENT_VERSION"),  # missing, too old
               ("2025-11", 426, "NONEXISTENT_VERSION"), ("209901", 426, "NONEXISTENT_VERSION")]  # fmt: skip
    for header, status, code in refused:
        headers = {k: v for k, v in HEADERS.items() if k != "LinkedIn-Version"}
        if header:
            headers["LinkedIn-Version"] = header
        assert_error(anon.post("/rest/videos?action=initializeUpload", headers=headers, json={}), status, code=code)
    assert anon.post("/rest/videos?action=initializeUpload", headers={**HEADERS, "LinkedIn-Version": "202511.01"},
                     json={"initializeUploadRequest": {"owner": OWNER, "fileSizeBytes": 5}}).status_code == 200
    headers = {k: v for k, v in HEADERS.items() if k != "X-Restli-Protocol-Version"}
    assert_error(anon.post("/rest/videos?action=initializeUpload", headers=headers, json={}), 400, "2.0.0")
    emulator.config.linkedin.require_restli_protocol = False
    assert_error(anon.post("/rest/videos?action=initializeUpload", headers=headers, json={}), 400,
                 "initializeUploadRequest")  # fmt: skip


def test_another_token_gets_403_on_the_video(linkedin, anon, emulator):
    value = new_video(linkedin, 5)
    emulator.config.linkedin.tokens = ["linkedin-token", "other"]
    other = {**HEADERS, "Authorization": "Bearer other"}
    response = anon.get(f"/rest/videos/{value['video'].replace(':', '%3A')}", headers=other)
    assert_error(response, 403, "Not enough permissions")
    assert set(response.json()) == {"message", "status"}
    assert_error(get_video(linkedin, "urn:li:video:nope"), 404)


def test_rate_limit_per_token(linkedin, anon, emulator, clock):
    emulator.config.linkedin.rate_limit = 2
    value = new_video(linkedin, 5)
    assert get_video(linkedin, value["video"]).status_code == 200
    assert_error(get_video(linkedin, value["video"]), 429, "throttle")
    assert put_part(value["uploadInstructions"][0]["uploadUrl"], b"abcde").status_code == 201  # not counted
    clock.advance(emulator.config.linkedin.rate_limit_window_secs)
    assert get_video(linkedin, value["video"]).status_code == 200


def test_injected_faults_on_parts_answer_as_linkedin(linkedin, anon):
    value = new_video(linkedin, 5)
    rule = {"match": "PUT /linkedin-upload/", "action": "rate_limit", "times": 1}
    assert anon.post("/_emulator/faults", json=rule).status_code in (200, 201)
    answer = put_part(value["uploadInstructions"][0]["uploadUrl"], b"abcde")
    assert_error(answer, 429, "throttle")
    assert answer.headers["Retry-After"]
    assert put_part(value["uploadInstructions"][0]["uploadUrl"], b"abcde").status_code == 201


def test_inspection_of_unknown_or_unfinished_videos(linkedin, anon):
    assert anon.get(f"{CONTROL}/videos/nope").status_code == 404
    value = new_video(linkedin, 5)
    response = anon.get(f"{CONTROL}/videos/{value['video'].rsplit(':', 1)[-1]}/file")
    assert response.status_code == 404 and "not finalized" in response.json()["error"]
