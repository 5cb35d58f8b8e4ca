"""TikTok's client on a mock transport: the plan, the init requests, the chunk PUTs, status and errors."""

import json

import httpx
import pytest

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    RateLimited,
    RemoteRejected,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.chunking import MERGED
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.tiktok import (
    MAX_CHUNK,
    MAX_VIDEO,
    MIN_CHUNK,
    TikTokUpload,
    post_status,
    server_progress,
    tiktok_plan,
)

BASE = "https://open.tiktokapis.com"
URL = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xza123"
FAST = RetryPolicy(max_attempts=3, backoff_initial=0.001, backoff_max=0.002)
DIRECT = {"title": "Launch #chunkup", "privacy_level": "SELF_ONLY"}
CREATOR = {"privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"], "max_video_post_duration_sec": 300}


def ok(data: dict, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"data": data, "error": {"code": "ok", "message": "", "log_id": "L1"}},
                          headers=headers)


def refused(status: int, code: str, message: str = "no") -> httpx.Response:
    return httpx.Response(status, json={"data": {}, "error": {"code": code, "message": message, "log_id": "L2"}})


def tiktok(handler, secrets=None, mode="direct", retry=FAST) -> TikTokUpload:
    return TikTokUpload(api_base=BASE, token="tok-123", mode=mode, transport=httpx.MockTransport(handler),
                        retry=retry, on_secret=(secrets.append if secrets is not None else None))


def api(request: httpx.Request) -> httpx.Response:
    """TikTok's API: creator info, either init, status PROCESSING_DOWNLOAD."""
    if request.url.path.endswith("/creator_info/query/"):
        return ok(CREATOR)
    if request.url.path.endswith("/init/"):
        return ok({"publish_id": "v_pub_file~v2-1.123", "upload_url": URL})
    return ok({"status": "PROCESSING_DOWNLOAD", "uploaded_bytes": 0})


def session_of(total: int, chunk: int, uploaded: int = 0) -> UploadSession:
    session = UploadSession(api="tiktok", media_id="v_pub_file~v2-1.123", total_bytes=total, chunk_size=chunk,
                            media_type="video/mp4", remote={"upload_url": URL, "mode": "direct", "uploaded": uploaded})
    session.use_plan(tiktok_plan(total, chunk))
    return session


# -- the plan -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "chunk", "parts"), [
    (50_000_123, 10_000_000, [10_000_000] * 4 + [10_000_123]),  # the notes' example: remainder merged into the last
    (30_000_000, 10_000_000, [10_000_000] * 3),
    (1_000, None, [1_000]),  # under 5,242,880 bytes: one chunk of the video's size
    (8_000_000, 10_000_000, [8_000_000]),  # not larger than the chunk: one
    (15_000_000, 10_000_000, [15_000_000]),  # floor(1.5) = 1: one chunk holding the remainder
    (100_000_001, 60_000_000, [50_000_000, 50_000_001]),  # over 64,000,000 must be chunked: halves
    (MAX_VIDEO, MIN_CHUNK, [MIN_CHUNK] * 818 + [MAX_VIDEO - 818 * MIN_CHUNK]),  # the largest video: 819 chunks
])
def test_tiktok_plan(total, chunk, parts):
    plan = tiktok_plan(total, chunk)
    assert plan.kind == MERGED and [length for _, length in plan.parts] == parts


@pytest.mark.parametrize(("total", "chunk", "message"), [
    (20_000_000, 4_000_000, r"outside TikTok.s bounds \(5242880\.\.64000000 bytes\)"),
    (20_000_000, MAX_CHUNK + 1, r"outside TikTok.s bounds \(5242880\.\.64000000 bytes\)"),
    (20_000_000, 4_000_000, "Set chunk_size within them"),
    (MAX_VIDEO + 1, None, "4 GB"),
    (0, None, "empty"),
])
def test_tiktok_plan_refusals(total, chunk, message):
    with pytest.raises(ConfigurationError, match=message):
        tiktok_plan(total, chunk)


def test_server_progress():
    assert server_progress("bytes 0-5242879/15728763") == 5242880
    assert server_progress("bytes */15728763") == 0
    assert server_progress("bytes=0-5") is None and server_progress(None) is None


# -- init ---------------------------------------------------------------------------------------------------------


async def test_direct_post_asks_the_creator_then_declares_the_plan_exactly():
    seen, secrets = [], []

    def handler(request):
        seen.append(request)
        return api(request)

    spec = UploadSpec(total_bytes=50_000_123, chunk_size=10_000_000, source="/data/a.mp4",
                      options={**DIRECT, "disable_comment": True, "video_cover_timestamp_ms": 1500})
    async with tiktok(handler, secrets) as t:
        session = await t.init(spec)
    assert [r.url.path for r in seen] == ["/v2/post/publish/creator_info/query/", "/v2/post/publish/video/init/"]
    assert all(r.headers["Authorization"] == "Bearer tok-123" for r in seen)
    assert seen[1].headers["Content-Type"] == "application/json; charset=UTF-8"
    assert json.loads(seen[1].content) == {
        "source_info": {"source": "FILE_UPLOAD", "video_size": 50_000_123, "chunk_size": 10_000_000,
                        "total_chunk_count": 5},
        "post_info": {"title": "Launch #chunkup", "privacy_level": "SELF_ONLY", "disable_comment": True,
                      "video_cover_timestamp_ms": 1500}}
    assert session.plan_kind == MERGED and session.plan.segment(4).length == 10_000_123
    assert session.media_id == "v_pub_file~v2-1.123" and session.remote["max_video_post_duration_sec"] == 300
    assert secrets == [URL, "Xza123"] and session.expires_at is not None  # a credential (its token too), one hour
    assert t.capabilities.secret_session  # so the session holding it stays out of XCom


async def test_inbox_sends_source_info_only():
    seen = []

    def handler(request):
        seen.append(request)
        return api(request)

    async with tiktok(handler, mode="inbox") as t:
        session = await t.init(UploadSpec(total_bytes=1000, media_type="video/webm"))
    assert [r.url.path for r in seen] == ["/v2/post/publish/inbox/video/init/"]
    assert json.loads(seen[0].content) == {"source_info": {"source": "FILE_UPLOAD", "video_size": 1000,
                                                           "chunk_size": 1000, "total_chunk_count": 1}}
    assert session.remote["mode"] == "inbox" and session.media_type == "video/webm"


async def test_a_privacy_level_the_creator_lacks_is_refused_before_init():
    seen = []

    def handler(request):
        seen.append(request.url.path)
        return api(request)

    async with tiktok(handler) as t:
        with pytest.raises(ConfigurationError, match=r"creator.s options .PUBLIC_TO_EVERYONE, SELF_ONLY"):
            await t.init(UploadSpec(total_bytes=1000, options={"privacy_level": "FOLLOWER_OF_CREATOR"}))
    assert seen == ["/v2/post/publish/creator_info/query/"]


@pytest.mark.parametrize(("options", "spec", "message"), [
    ({"privacy_level": "SELF_ONLY", "title": "x" * 2201}, {}, "at most 2200 characters; got 2201"),
    ({"privacy_level": "FRIENDS"}, {}, "not one TikTok knows"),
    ({"title": "no privacy"}, {}, "needs privacy_level"),
    ({"privacy_level": "SELF_ONLY", "disable_duet": "yes"}, {}, "disable_duet must be true or false"),
    ({"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": -1}, {}, "video_cover_timestamp_ms"),
    ({"privacy_level": "SELF_ONLY", "caption": "x"}, {}, "not caption"),
    ({"mode": "inbox", "title": "x"}, {}, "inbox .draft. upload sends no post_info"),
    ({"mode": "later"}, {}, "'direct'"),
    ({"privacy_level": "SELF_ONLY"}, {"media_type": "video/x-msvideo"}, "MP4, MOV or WebM"),
    ({"privacy_level": "SELF_ONLY"}, {"chunk_size": 1_000_000, "total_bytes": 20_000_000},
     r"outside TikTok.s bounds \(5242880\.\.64000000 bytes\)"),
    ({"privacy_level": "SELF_ONLY"}, {"total_bytes": MAX_VIDEO + 1}, "4 GB"),
])
async def test_bad_input_is_refused_before_any_request(options, spec, message):
    seen = []

    def handler(request):
        seen.append(request)
        return api(request)

    async with tiktok(handler) as t:
        with pytest.raises(ConfigurationError, match=message):
            await t.init(UploadSpec(**{"total_bytes": 1000, "options": options, **spec}))
    assert seen == []


def test_settings_refused_at_construction():
    with pytest.raises(ConfigurationError, match="access token"):
        TikTokUpload(token="")
    with pytest.raises(ConfigurationError, match="'inbox'"):
        TikTokUpload(token="t", mode="draft")
    with pytest.raises(ConfigurationError, match="outside TikTok's chunk sizes"):
        TikTokUpload(token="t", default_chunk_bytes=MAX_CHUNK + 1)


# -- chunks -------------------------------------------------------------------------------------------------------


async def test_chunks_go_without_the_token_with_their_range():
    seen = []

    def handler(request):
        seen.append((request, request.read()))
        total, last = 2 * MIN_CHUNK + 3, int(request.headers["Content-Range"].split("-")[1].split("/")[0])
        status = 201 if last == total - 1 else 206
        return httpx.Response(status, headers={"Content-Range": f"bytes 0-{last}/{total}"})

    session = session_of(2 * MIN_CHUNK + 3, MIN_CHUNK)
    async with tiktok(handler) as t:
        for segment in session.plan.segments():
            await t.append(session, segment, b"x" * segment.length)
    (first, body0), (second, body1) = seen
    assert str(first.url) == URL and "Authorization" not in first.headers
    assert first.headers["Content-Range"] == f"bytes 0-{MIN_CHUNK - 1}/{2 * MIN_CHUNK + 3}"
    assert second.headers["Content-Range"] == f"bytes {MIN_CHUNK}-{2 * MIN_CHUNK + 2}/{2 * MIN_CHUNK + 3}"
    assert first.headers["Content-Type"] == "video/mp4" and second.headers["Content-Length"] == str(MIN_CHUNK + 3)
    assert len(body0) == MIN_CHUNK and len(body1) == MIN_CHUNK + 3
    assert session.remote["complete"] and session.remote["uploaded"] == 2 * MIN_CHUNK + 3


async def test_a_416_that_shows_the_chunk_held_moves_on():
    def handler(request):
        return httpx.Response(416, headers={"Content-Range": f"bytes 0-{MIN_CHUNK - 1}/{2 * MIN_CHUNK}"})

    session = session_of(2 * MIN_CHUNK, MIN_CHUNK)
    async with tiktok(handler) as t:
        await t.append(session, session.plan.segment(0), b"x" * MIN_CHUNK)
    assert session.remote["uploaded"] == MIN_CHUNK


async def test_a_416_that_shows_missing_chunks_says_where_the_server_is():
    def handler(request):
        return httpx.Response(416, headers={"Content-Range": f"bytes */{3 * MIN_CHUNK}"})

    session = session_of(3 * MIN_CHUNK, MIN_CHUNK)
    async with tiktok(handler) as t:
        with pytest.raises(RemoteRejected, match=r"holds 0 bytes of .*from byte 0 on"):
            await t.append(session, session.plan.segment(1), b"x" * MIN_CHUNK)


@pytest.mark.parametrize("status", [403, 404])
async def test_an_expired_or_unknown_upload_url_is_upload_expired(status):
    def handler(request):
        return refused(status, "url_expired" if status == 403 else "not_found")

    session = session_of(1000, 1000)
    async with tiktok(handler) as t:
        with pytest.raises(UploadExpired, match=r"one hour from init.*restart_expired"):
            await t.append(session, session.plan.segment(0), b"x" * 1000)


async def test_a_server_error_retries_the_chunk():
    calls = []

    def handler(request):
        calls.append(request.read())
        return httpx.Response(503) if len(calls) == 1 else httpx.Response(201, headers={
            "Content-Range": "bytes 0-999/1000"})

    session = session_of(1000, 1000)
    async with tiktok(handler) as t:
        await t.append(session, session.plan.segment(0), b"y" * 1000)
    assert calls == [b"y" * 1000, b"y" * 1000] and session.remote["complete"]


async def test_committed_asks_tiktok_how_many_bytes_it_holds():
    def handler(request):
        return ok({"status": "PROCESSING_UPLOAD", "uploaded_bytes": 2 * MIN_CHUNK})

    session = session_of(3 * MIN_CHUNK + 9, MIN_CHUNK)
    async with tiktok(handler) as t:
        assert await t.committed(session) == {0, 1}


# -- finalize, status, errors -------------------------------------------------------------------------------------


async def test_finalize_reads_the_status_and_carries_the_post_id():
    def handler(request):
        return ok({"status": "PUBLISH_COMPLETE", "uploaded_bytes": 1000, "publicaly_available_post_id": [7301]})

    session = session_of(1000, 1000)
    session.remote["complete"] = True
    async with tiktok(handler) as t:
        result = await t.finalize(session)
    assert result.processing_status.state == "succeeded"
    assert result.details["publicaly_available_post_id"] == [7301] and URL not in json.dumps(result.to_dict())


async def test_finalize_refuses_an_upload_missing_chunks():
    def handler(request):
        return ok({"status": "PROCESSING_UPLOAD", "uploaded_bytes": MIN_CHUNK})

    async with tiktok(handler) as t:
        with pytest.raises(RemoteRejected, match=f"holds {MIN_CHUNK} of the"):
            await t.finalize(session_of(2 * MIN_CHUNK, MIN_CHUNK))


@pytest.mark.parametrize(("data", "state"), [
    ({"status": "PROCESSING_UPLOAD"}, "pending"),
    ({"status": "PROCESSING_DOWNLOAD"}, "in_progress"),
    ({"status": "PUBLISH_COMPLETE"}, "succeeded"),
    ({"status": "SEND_TO_USER_INBOX"}, "succeeded"),
    ({"status": "FAILED", "fail_reason": "file_format_check_failed"}, "failed"),
])
def test_post_states(data, state):
    assert post_status(data).state == state


def test_failure_reasons_verbatim():
    status = post_status({"status": "FAILED", "fail_reason": "duration_check_failed"})
    assert status.error["code"] == "duration_check_failed"
    assert status.reason().startswith("fail_reason duration_check_failed: ") and "does not decode" in status.reason()
    assert post_status({"status": "FAILED", "fail_reason": "spam_risk_user_banned"}).reason() == \
        "fail_reason spam_risk_user_banned: TikTok failed the post: spam_risk_user_banned"
    with pytest.raises(MalformedResponse, match="'DONE'"):
        post_status({"status": "DONE"})


async def test_status_refuses_an_until():
    async with tiktok(api) as t:
        with pytest.raises(ConfigurationError, match="leave until unset"):
            await t.status("v1", until="ready")


@pytest.mark.parametrize(("response", "kind", "message"), [
    (refused(401, "access_token_invalid"), AuthenticationFailed, "access_token_invalid: no .log_id L2.. Check the"),
    (refused(401, "scope_not_authorized"), AuthenticationFailed, "video.publish for direct posts"),
    (refused(403, "spam_risk_too_many_posts"), RemoteRejected, "daily post cap"),
    (refused(403, "unaudited_client_can_only_post_to_private_accounts"), RemoteRejected, "SELF_ONLY"),
    (refused(400, "invalid_params", "The chunk size is invalid"), RemoteRejected, "invalid_params: The chunk size"),
    (refused(200, "internal_error", "try later"), RemoteRejected, "HTTP 200: internal_error: try later"),
    (httpx.Response(502, text="<html>bad gateway</html>"), RetryExhausted, "HTTP 502: <html>bad gateway"),
])
async def test_errors_in_words(response, kind, message):
    async with tiktok(lambda request: response, retry=RetryPolicy(max_attempts=1)) as t:
        with pytest.raises(kind, match=message) as caught:
            await t.init(UploadSpec(total_bytes=1000, options={"mode": "inbox"}))
    if kind is RemoteRejected and response.status_code == 403:
        assert not isinstance(caught.value, AuthenticationFailed)  # new credentials fix no spam cap


async def test_a_rate_limit_is_waited_out():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            response = refused(429, "rate_limit_exceeded")
            response.headers["Retry-After"] = "0"
            return response
        return api(request)

    async with tiktok(handler, mode="inbox") as t:
        session = await t.init(UploadSpec(total_bytes=1000))
    assert len(calls) == 2 and session.media_id == "v_pub_file~v2-1.123"


async def test_a_rate_limit_without_retry_after_waits_for_the_window():
    calls = []

    def handler(request):
        calls.append(request)
        return refused(429, "rate_limit_exceeded") if len(calls) < 3 else api(request)

    async with tiktok(handler, mode="inbox") as t:
        t.rate_limit_wait = 0.01  # a minute at TikTok
        session = await t.init(UploadSpec(total_bytes=1000))
    assert len(calls) == 3 and session.media_id == "v_pub_file~v2-1.123"
    assert TikTokUpload.rate_limit_wait == 60.0


async def test_a_rate_limit_beyond_the_retry_budget_fails_in_words():
    policy = RetryPolicy(max_attempts=5, max_elapsed=30.0)
    async with tiktok(lambda request: refused(429, "rate_limit_exceeded", "slow down"), mode="inbox",
                      retry=policy) as t:
        with pytest.raises(RateLimited, match=r"rate_limit_exceeded: slow down.*init 6, status 30 a minute"):
            await t.init(UploadSpec(total_bytes=1000))  # the 60 s window does not fit in 30 s: no wait at all
