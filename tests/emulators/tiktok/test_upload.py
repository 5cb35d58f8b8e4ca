"""TikTok on the emulator over HTTP: inits, the upload URL's 206/201/416, status over the clock, refusals."""

from __future__ import annotations

import hashlib
import os

import pytest

from .helpers import (
    CONTROL,
    DIRECT,
    INBOX,
    MIB5,
    POST_INFO,
    STATUS,
    TOKEN,
    assert_error,
    init,
    inspect,
    new_post,
    put,
    raw_put,
    source,
    status,
    upload_all,
    wait_for,
)  # fmt: skip

SIZE = 2 * MIB5 + 123  # two chunks of 5 MiB, the remainder merged into the second


def test_creator_info(tiktok, emulator):
    response = tiktok.post("/v2/post/publish/creator_info/query/")
    assert response.status_code == 200 and response.json()["error"]["code"] == "ok"
    data = response.json()["data"]
    assert data["privacy_level_options"] == emulator.config.tiktok.privacy_level_options
    assert data["max_video_post_duration_sec"] == 600
    emulator.config.tiktok.audited = False
    assert tiktok.post("/v2/post/publish/creator_info/query/").json()["data"]["privacy_level_options"] == ["SELF_ONLY"]


def test_direct_post_chunked_byte_exact_through_processing(tiktok, anon, emulator, clock):
    data = os.urandom(SIZE)
    post = new_post(tiktok, SIZE, MIB5)
    assert post["upload_url"].startswith(f"{emulator.url}/tiktok-upload/{post['publish_id']}?upload_token=")
    assert status(tiktok, post["publish_id"]).json()["data"] == {"status": "PROCESSING_UPLOAD", "uploaded_bytes": 0}
    first, last = upload_all(post["upload_url"], data, MIB5)
    assert first.status_code == 206 and first.headers["Content-Range"] == f"bytes 0-{MIB5 - 1}/{SIZE}"
    assert last.status_code == 201 and last.headers["Content-Range"] == f"bytes 0-{SIZE - 1}/{SIZE}"
    answer = status(tiktok, post["publish_id"]).json()
    assert answer["error"]["code"] == "ok"
    assert answer["data"] == {"status": "PROCESSING_DOWNLOAD", "uploaded_bytes": SIZE}
    clock.advance(emulator.config.tiktok.processing_secs)
    done = status(tiktok, post["publish_id"]).json()["data"]
    assert done["status"] == "PUBLISH_COMPLETE" and done["publicaly_available_post_id"]
    info = inspect(anon, post["publish_id"])
    assert info["sha256"] == hashlib.sha256(data).hexdigest() and info["status"] == "PUBLISH_COMPLETE"
    assert info["chunks"] == [[0, MIB5 - 1], [MIB5, SIZE - 1]] and info["chunks_received"] == 2
    assert info["post_info"] == POST_INFO and info["kind"] == "direct"
    assert anon.get(f"{CONTROL}/posts").json()[0]["publish_id"] == post["publish_id"]
    stats = anon.get("/_emulator/stats").json()
    assert (stats["tiktok_posts"], stats["tiktok_chunks"], stats["tiktok_uploads_completed"]) == (1, 2, 1)


def test_inbox_upload_single_chunk_ends_in_the_inbox(tiktok, anon, emulator, clock):
    data = b"small video"
    post = new_post(tiktok, len(data), len(data), inbox=True)
    assert post["publish_id"].startswith("v_inbox_file~")
    answer = put(post["upload_url"], data, 0, len(data), "video/webm")
    assert answer.status_code == 201
    clock.advance(emulator.config.tiktok.processing_secs)
    assert status(tiktok, post["publish_id"]).json()["data"] == {"status": "SEND_TO_USER_INBOX",
                                                                  "uploaded_bytes": len(data)}  # fmt: skip
    info = inspect(anon, post["publish_id"])
    assert info["post_info"] is None and info["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_failure_fault_ends_failed_with_a_reason(tiktok, anon, emulator, clock):
    emulator.config.tiktok.failure_rate = 1.0
    post = new_post(tiktok, 3, 3)
    assert put(post["upload_url"], b"abc", 0, 3).status_code == 201
    assert status(tiktok, post["publish_id"]).json()["data"]["status"] == "PROCESSING_DOWNLOAD"
    clock.advance(emulator.config.tiktok.processing_secs)
    data = status(tiktok, post["publish_id"]).json()["data"]
    assert data["status"] == "FAILED" and data["fail_reason"] == "internal"
    assert anon.get("/_emulator/faults").json()["injected"]["tiktok_failed"] == 1


def test_chunks_out_of_order_or_again_are_416(tiktok, anon):
    data = os.urandom(SIZE)
    post = new_post(tiktok, SIZE, MIB5)
    url = post["upload_url"]
    second = put(url, data[MIB5:], MIB5, SIZE)
    assert second.status_code == 416 and second.headers["Content-Range"] == f"bytes */{SIZE}"
    assert_error(second, 416, "range_not_satisfiable", "(0, 5242879)")
    assert put(url, data[:MIB5 - 1], 0, SIZE).status_code == 416  # not the plan's chunk
    assert put(url, data[:MIB5], 0, SIZE).status_code == 206
    again = put(url, data[:MIB5], 0, SIZE)
    assert again.status_code == 416 and again.headers["Content-Range"] == f"bytes 0-{MIB5 - 1}/{SIZE}"
    assert put(url, data[MIB5:], MIB5, SIZE).status_code == 201
    assert put(url, data[MIB5:], MIB5, SIZE).status_code == 416  # nothing left to take
    assert inspect(anon, post["publish_id"])["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Content-Type": "application/octet-stream"}, "Content-Type"),
        ({"Content-Range": "bytes 0-2"}, "Content-Range"),
        ({"Content-Range": "0-2/3"}, "Content-Range"),
        ({"Content-Range": "bytes 0-2/4"}, "does not describe"),
        ({"Content-Range": "bytes 2-0/3"}, "does not describe"),
    ],
)
def test_bad_headers_are_400(tiktok, headers, message):
    post = new_post(tiktok, 3, 3)
    answer = put(post["upload_url"], b"abc", 0, 3, **{k.replace("-", "_"): v for k, v in headers.items()})
    assert_error(answer, 400, "invalid_params", message)


def test_a_body_of_another_length_is_400_and_stores_nothing(tiktok, anon):
    post = new_post(tiktok, 3, 3)
    answer = put(post["upload_url"], b"ab", 0, 3, Content_Range="bytes 0-2/3")
    assert_error(answer, 400, "invalid_params", "Content-Length")
    assert inspect(anon, post["publish_id"])["chunks_received"] == 0
    assert put(post["upload_url"], b"abc", 0, 3).status_code == 201


def test_a_broken_body_stores_nothing_of_that_chunk(tiktok, anon, emulator):
    post = new_post(tiktok, 10, 10)
    raw_put(post["upload_url"], 10, b"abcd", "bytes 0-9/10").close()
    wait_for(lambda: anon.get("/_emulator/stats").json()["tiktok_broken_bodies"] == 1)
    assert inspect(anon, post["publish_id"])["chunks_received"] == 0
    assert put(post["upload_url"], b"0123456789", 0, 10).status_code == 201


def test_upload_url_unknown_wrong_token_or_expired(tiktok, emulator, clock):
    post = new_post(tiktok, 3, 3)
    url = post["upload_url"]
    assert_error(put(url.replace("upload_token=", "upload_token=x"), b"abc", 0, 3), 404, "not_found")
    assert_error(put(url.split("?")[0], b"abc", 0, 3), 404, "not_found")
    assert_error(put(f"{emulator.url}/tiktok-upload/nope?upload_token=a", b"abc", 0, 3), 404, "not_found")
    clock.advance(emulator.config.tiktok.upload_url_expiry_secs)
    assert_error(put(url, b"abc", 0, 3), 403, "url_expired")


def test_tokens_and_scopes(tiktok, anon, emulator):
    assert_error(anon.post(DIRECT, json={}), 401, "access_token_invalid")
    assert_error(anon.post(DIRECT, json={}, headers={"Authorization": "Bearer nope"}), 401, "access_token_invalid")
    emulator.config.tiktok.scopes = ["video.upload"]
    assert_error(init(tiktok, 3, 3), 401, "scope_not_authorized", "video.publish")
    assert_error(tiktok.post("/v2/post/publish/creator_info/query/"), 401, "scope_not_authorized")
    inbox = new_post(tiktok, 3, 3, inbox=True)
    assert status(tiktok, inbox["publish_id"]).status_code == 200
    emulator.config.tiktok.scopes = ["video.publish"]
    assert_error(init(tiktok, 3, 3, inbox=True), 401, "scope_not_authorized", "video.upload")
    emulator.config.tiktok.tokens = [TOKEN, "other"]
    other = anon.post(STATUS, json={"publish_id": inbox["publish_id"]}, headers={"Authorization": "Bearer other"})
    assert_error(other, 400, "invalid_params", "not a post of this user")


def test_init_refusals_over_http(tiktok, emulator):
    emulator.config.tiktok.init_rate_limit = 100  # refused inits count too
    for count in (4, 6):  # floor is 5
        body = {"post_info": POST_INFO, "source_info": source(50_000_123, 10_000_000, count)}
        assert_error(tiktok.post(DIRECT, json=body), 400, "invalid_params", "The chunk size is invalid")
    inbox = {"source_info": source(MIB5 - 1, 1024)}
    assert_error(tiktok.post(INBOX, json=inbox), 400, "invalid_params", "The chunk size is invalid")
    assert_error(tiktok.post(DIRECT, json={"source_info": source(3, 3)}), 400, "invalid_params", "post_info")
    emulator.config.tiktok.privacy_level_options = ["SELF_ONLY"]
    assert_error(init(tiktok, 3, 3, privacy_level="PUBLIC_TO_EVERYONE"), 403, "privacy_level_option_mismatch")
    emulator.config.tiktok.privacy_level_options = ["PUBLIC_TO_EVERYONE", "SELF_ONLY"]
    emulator.config.tiktok.audited = False
    assert_error(init(tiktok, 3, 3, privacy_level="PUBLIC_TO_EVERYONE"), 403,
                 "unaudited_client_can_only_post_to_private_accounts")  # fmt: skip
    assert_error(tiktok.post(DIRECT, content=b"{nope"), 400, "invalid_params", "JSON")
    assert_error(tiktok.post(DIRECT, json=[1]), 400, "invalid_params", "object")
    assert_error(status(tiktok, "v_pub_file~v2-1.1"), 400, "invalid_params")


def test_at_most_five_pending_shares_a_day(tiktok, emulator, clock):
    emulator.config.tiktok.init_rate_limit = 100
    for _ in range(5):
        new_post(tiktok, 3, 3, inbox=True)
    assert_error(init(tiktok, 3, 3, inbox=True), 403, "spam_risk_too_many_pending_share")
    assert init(tiktok, 3, 3).status_code == 200  # direct posts are not shares
    clock.advance(emulator.config.tiktok.spam_window_secs)
    assert init(tiktok, 3, 3, inbox=True).status_code == 200


def test_a_daily_cap_on_direct_posts(tiktok, emulator, clock):
    emulator.config.tiktok.init_rate_limit = 100
    emulator.config.tiktok.max_daily_posts = 2
    for _ in range(2):
        new_post(tiktok, 3, 3)
    assert_error(init(tiktok, 3, 3), 403, "spam_risk_too_many_posts")
    assert init(tiktok, 3, 3, inbox=True).status_code == 200  # drafts have their own cap
    clock.advance(emulator.config.tiktok.spam_window_secs)
    assert init(tiktok, 3, 3).status_code == 200


def test_rate_limits_per_token(tiktok, anon, emulator, clock):
    emulator.config.tiktok.max_pending_shares = 100
    for i in range(6):
        assert init(tiktok, 3, 3, inbox=i % 2 == 0).status_code == 200
    assert_error(init(tiktok, 3, 3), 429, "rate_limit_exceeded")
    emulator.config.tiktok.tokens = [TOKEN, "other"]
    other = anon.post(INBOX, json={"source_info": source(3, 3)}, headers={"Authorization": "Bearer other"})
    assert other.status_code == 200  # another user's window
    publish_id = anon.get(f"{CONTROL}/posts").json()[-1]["publish_id"]
    for _ in range(30):
        assert status(tiktok, publish_id).status_code == 200
    assert_error(status(tiktok, publish_id), 429, "rate_limit_exceeded")
    clock.advance(emulator.config.tiktok.rate_limit_window_secs)
    assert status(tiktok, publish_id).status_code == 200 and init(tiktok, 3, 3).status_code == 200


def test_injected_faults_on_chunks_answer_as_tiktok(tiktok, anon):
    post = new_post(tiktok, 3, 3)
    rule = {"match": "PUT /tiktok-upload/", "action": "rate_limit", "times": 1}
    assert anon.post("/_emulator/faults", json=rule).status_code in (200, 201)
    answer = put(post["upload_url"], b"abc", 0, 3)
    assert_error(answer, 429, "rate_limit_exceeded")
    assert answer.headers["Retry-After"]
    assert put(post["upload_url"], b"abc", 0, 3).status_code == 201


def test_inspection_of_an_unknown_post_is_404(anon):
    response = anon.get(f"{CONTROL}/posts/nope")
    assert response.status_code == 404 and "no such post" in response.json()["error"]
