"""Error paths of the X protocol on a mock transport (the emulator tests cover the happy paths)."""

import json
import time

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
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.chunking import MiB, Segment
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.x import XMediaUpload

FAST = RetryPolicy(max_attempts=3, backoff_initial=0.001, backoff_max=0.01, max_elapsed=5)


def protocol(handler, **kwargs) -> XMediaUpload:
    return XMediaUpload(auth=BearerAuth("t0ken"), base_url="http://x.test", retry=FAST,
                        transport=httpx.MockTransport(handler), **kwargs)


def session(**kwargs) -> UploadSession:
    return UploadSession(api="x", media_id="123", total_bytes=10, chunk_size=10, remote={"dialect": "v2"},
                         **kwargs)


def problem(code, **body):
    return httpx.Response(code, json=body, headers={"content-type": "application/problem+json"})


async def test_problem_details_reach_the_user_verbatim():
    detail = {"type": "https://api.x.com/2/problems/invalid-request", "title": "Invalid Request",
              "detail": "One or more parameters to your request was invalid.", "parameter": "media_type",
              "value": "video/x"}
    async with protocol(lambda r: problem(400, **detail)) as p:
        with pytest.raises(RemoteRejected) as e:
            await p.init(UploadSpec(total_bytes=10, media_type="video/mp4"))
    assert "One or more parameters to your request was invalid." in str(e.value)
    assert "parameter=media_type" in str(e.value)
    assert e.value.body == detail
    assert e.value.status == 400


async def test_401_and_403_are_not_retried_and_explain_the_fix():
    calls = []

    def handler(request):
        calls.append(request)
        return problem(403, title="Forbidden", type="about:blank", status=403, detail="Forbidden")

    async with protocol(handler) as p:
        with pytest.raises(AuthenticationFailed, match=r"media\.write"):
            await p.init(UploadSpec(total_bytes=10, media_type="video/mp4"))
    assert len(calls) == 1
    async with protocol(lambda r: problem(401, title="Unauthorized", detail="Unauthorized")) as p:
        with pytest.raises(AuthenticationFailed, match="credentials"):
            await p.status("1")


async def test_5xx_is_retried_then_succeeds():
    answers = iter([httpx.Response(503, text="busy"), httpx.Response(502, text="bad gateway"),
                    httpx.Response(200, json={"data": {"expires_at": 1}})])
    async with protocol(lambda r: next(answers)) as p:
        await p.append(session(), Segment(0, 0, 10), b"0123456789")
        assert p.client.retries == 2


async def test_retries_are_bounded():
    async with protocol(lambda r: httpx.Response(500, text="boom")) as p:
        with pytest.raises(RetryExhausted, match="gave up after 3 attempts"):
            await p.finalize(session())


async def test_connection_errors_are_retried():
    attempts = []

    def handler(request):
        attempts.append(1)
        if len(attempts) < 3:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"data": {"id": "123", "processing_info": {"state": "succeeded"}}})

    async with protocol(handler) as p:
        status = await p.status("123")
    assert status.done and len(attempts) == 3


async def test_429_waits_for_the_announced_reset():
    answers = iter([
        httpx.Response(429, json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                       headers={"x-rate-limit-reset": str(int(time.time())), "x-rate-limit-remaining": "0"}),
        httpx.Response(200, json={"data": {"id": "123"}}),
    ])
    async with protocol(lambda r: next(answers)) as p:
        assert (await p.status("123")).state == "succeeded"


async def test_429_beyond_the_budget_is_a_clear_rate_limit_error():
    reset = int(time.time()) + 3600
    response = httpx.Response(429, json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                              headers={"x-rate-limit-reset": str(reset)})
    async with protocol(lambda r: response) as p:
        with pytest.raises(RateLimited, match="88 Rate limit exceeded") as e:
            await p.status("123")
    assert e.value.retry_after > 3000


async def test_malformed_success_bodies():
    async with protocol(lambda r: httpx.Response(200, text="<html>oops</html>")) as p:
        with pytest.raises(MalformedResponse, match="not a JSON object"):
            await p.init(UploadSpec(total_bytes=10, media_type="video/mp4"))
    async with protocol(lambda r: httpx.Response(200, json={"data": {"media_key": "7_1"}})) as p:
        with pytest.raises(MalformedResponse, match="without a media id"):
            await p.init(UploadSpec(total_bytes=10, media_type="video/mp4"))
    async with protocol(lambda r: httpx.Response(200, json={"nothing": 1})) as p:
        with pytest.raises(MalformedResponse, match="without a data object"):
            await p.finalize(session())


async def test_expired_session_fails_before_any_request():
    def handler(request):
        raise AssertionError("no request expected")

    async with protocol(handler) as p:
        with pytest.raises(UploadExpired, match="re-run the init task"):
            await p.append(session(expires_at=time.time() - 1), Segment(0, 0, 10), b"x" * 10)


async def test_server_saying_expired_maps_to_upload_expired():
    body = {"type": "https://api.x.com/2/problems/invalid-request", "title": "Invalid Request",
            "detail": "The media upload session 123 has expired."}
    async with protocol(lambda r: problem(400, **body)) as p:
        with pytest.raises(UploadExpired):
            await p.finalize(session())


@pytest.mark.parametrize(("spec", "message"), [
    (UploadSpec(total_bytes=10, media_type="video/x-matroska"), "does not accept media_type"),
    (UploadSpec(total_bytes=10, media_type=None), "needs a media_type"),
    (UploadSpec(total_bytes=10, media_type="video/mp4", media_category="tweet_story"), "does not know media_category"),
    (UploadSpec(total_bytes=10, media_type="image/png", media_category="tweet_video"), "is for video media"),
    (UploadSpec(total_bytes=6 * MiB, media_type="image/png"), "at most 5242880 bytes of image"),
    (UploadSpec(total_bytes=16 * MiB, media_type="image/gif", media_category="tweet_gif"), "at most 15728640"),
    (UploadSpec(total_bytes=513 * MiB, media_type="video/mp4"), "at most 536870912"),
    (UploadSpec(total_bytes=10, media_type="video/mp4", options={"title": "x"}), "does not take title"),
    (UploadSpec(total_bytes=10, media_type="video/mp4", options={"additional_owners": "12"}), "list of numeric"),
    (UploadSpec(total_bytes=10, media_type="video/mp4", chunk_size=6 * MiB), "outside X's bounds"),
])
async def test_invalid_specs_fail_before_any_request(spec, message):
    def handler(request):
        raise AssertionError("no request expected")

    async with protocol(handler) as p:
        with pytest.raises(ConfigurationError, match=message):
            await p.init(spec)


async def test_size_limits_are_overridable():
    def handler(request):
        body = json.loads(request.content)
        assert body == {"media_type": "video/mp4", "total_bytes": 600 * MiB, "media_category": "amplify_video"}
        return httpx.Response(200, json={"data": {"id": "9", "media_key": "7_9", "expires_after_secs": 60}})

    async with protocol(handler, size_limits={"video": 1024 * MiB}) as p:
        s = await p.init(UploadSpec(total_bytes=600 * MiB, media_type="video/mp4", media_category="amplify_video"))
    assert s.media_id == "9" and s.chunk_size == 4 * MiB and s.expires_at > time.time()


async def test_session_of_other_dialect_is_refused():
    async with protocol(lambda r: httpx.Response(200), dialect="v1.1") as p:
        with pytest.raises(ConfigurationError, match="same api_version"):
            await p.finalize(session())


def test_unknown_dialect():
    with pytest.raises(ConfigurationError, match="api_version"):
        XMediaUpload(auth=None, dialect="v3")
