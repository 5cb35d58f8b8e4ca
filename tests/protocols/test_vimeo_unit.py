"""Vimeo's client on a mock transport: the create request, what goes to the upload link, status and errors."""

import json

import httpx
import pytest

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    RateLimited,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.chunking import Segment
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSpec
from airflow_provider_chunkup.protocols.vimeo import VimeoUpload, transcode_status

BASE = "https://api.vimeo.com"
LINK = "https://us-files.tus.vimeo.com/files/vimeo-prod-src-tus-us/abc123"
FAST = RetryPolicy(max_attempts=2, backoff_initial=0.001, backoff_max=0.002)
SPEC = UploadSpec(total_bytes=10, source="/data/launch.mp4", media_type="video/mp4")


def vimeo(handler, secrets=None):
    return VimeoUpload(api_base=BASE, token="tok-123", transport=httpx.MockTransport(handler), retry=FAST,
                       on_secret=(secrets.append if secrets is not None else None))


def created(request):
    return httpx.Response(200, json={"uri": "/videos/42", "link": "https://vimeo.com/42",
                                     "upload": {"approach": "tus", "status": "in_progress", "upload_link": LINK}})


async def test_create_asks_tus_with_the_size_and_the_options():
    seen, secrets = [], []

    def handler(request):
        seen.append(request)
        return created(request)

    spec = UploadSpec(total_bytes=10, source="/data/launch.mp4",
                      options={"name": "Launch", "privacy": "unlisted", "description": "d"})
    async with vimeo(handler, secrets) as v:
        session = await v.init(spec)
    request = seen[0]
    assert request.method == "POST" and request.url.path == "/me/videos"
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["Accept"] == "application/vnd.vimeo.*+json;version=3.4"
    assert json.loads(request.content) == {"upload": {"approach": "tus", "size": "10"}, "name": "Launch",
                                           "description": "d", "privacy": {"view": "unlisted"}}
    assert session.media_id == "42" and session.remote["link_only"]
    assert secrets == [LINK]  # the link takes bytes without a token: masked
    assert LINK not in json.dumps(session.to_dict())  # and kept out of the session (XCom, the task state store)


async def test_a_later_task_asks_vimeo_for_the_link_with_the_token():
    seen = []

    def handler(request):
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"upload": {"upload_link": LINK, "status": "in_progress"}})
        return httpx.Response(204, headers={"Upload-Offset": "10"})

    async with vimeo(created) as v:
        session = await v.init(SPEC)
    secrets = []
    async with vimeo(handler, secrets) as v:  # another task: a new protocol, the session from XCom
        await v.append(session, Segment(0, 0, 10), b"0123456789")
    get, patch = seen
    assert get.url.path == "/videos/42" and get.headers["Authorization"] == "Bearer tok-123"
    assert get.url.params["fields"] == "upload.upload_link,upload.status"
    assert str(patch.url) == LINK and "Authorization" not in patch.headers and secrets == [LINK]


async def test_a_deleted_video_has_no_link_to_resume():
    async with vimeo(created) as v:
        session = await v.init(SPEC)
    async with vimeo(lambda r: httpx.Response(404, json={"error": "not found", "error_code": 5000})) as v:
        with pytest.raises(UploadExpired, match="restart_expired"):
            await v.append(session, Segment(0, 0, 10), b"0123456789")


async def test_name_defaults_to_the_file_name():
    seen = []

    def handler(request):
        seen.append(json.loads(request.content))
        return created(request)

    async with vimeo(handler) as v:
        await v.init(SPEC)
    assert seen[0]["name"] == "launch.mp4"


async def test_patch_goes_to_the_link_without_the_token():
    seen = []

    def handler(request):
        if request.url.path == "/me/videos":
            return created(request)
        seen.append(request)
        return httpx.Response(204, headers={"Upload-Offset": "10", "Tus-Resumable": "1.0.0"})

    async with vimeo(handler) as v:
        session = await v.init(SPEC)
        await v.append(session, Segment(0, 0, 10), b"0123456789")
    assert [str(r.url) for r in seen] == [LINK]
    assert "Authorization" not in seen[0].headers and seen[0].headers["Upload-Offset"] == "0"


@pytest.mark.parametrize("options, match", [
    ({"privacy": "secret"}, "privacy view 'secret'"),
    ({"privacy": "password"}, "needs a password"),
    ({"name": "x" * 129}, "at most 128"),
    ({"title": "t"}, "not title"),
    ({"fields": ["a"]}, "must be a mapping"),
])
async def test_bad_options_fail_before_any_request(options, match):
    def handler(request):
        raise AssertionError("no request expected")

    async with vimeo(handler) as v:
        with pytest.raises(ConfigurationError, match=match):
            await v.init(UploadSpec(total_bytes=10, source="/a.mp4", options=options))


async def test_vimeo_errors_in_words():
    def handler(request):
        return httpx.Response(401, json={"error": "Unauthorized", "developer_message": "The token is invalid.",
                                         "error_code": 8002, "link": None})

    async with vimeo(handler) as v:
        with pytest.raises(AuthenticationFailed, match=r"The token is invalid\. \(Vimeo error 8002\).*upload scope"):
            await v.init(SPEC)


async def test_quota_error_names_the_fix():
    def handler(request):
        return httpx.Response(403, json={"error": "Quota", "developer_message": "Weekly quota reached",
                                         "error_code": 4102})

    async with vimeo(handler) as v:
        with pytest.raises(AuthenticationFailed, match="weekly upload quota"):
            await v.init(SPEC)


async def test_rate_limit_waits_for_the_iso_reset():
    def handler(request):
        return httpx.Response(429, json={"error": "Too many", "error_code": 9000},
                              headers={"X-RateLimit-Reset": "2000-01-01T00:00:00+00:00"})

    async with vimeo(handler) as v:
        with pytest.raises(RateLimited):
            await v.init(SPEC)


async def test_answer_without_link_is_malformed():
    async with vimeo(lambda r: httpx.Response(200, json={"uri": "/videos/1"})) as v:
        with pytest.raises(MalformedResponse, match="upload_link"):
            await v.init(SPEC)


async def test_abort_deletes_the_video_and_gone_counts_as_deleted():
    seen = []

    def handler(request):
        if request.url.path == "/me/videos":
            return created(request)
        seen.append((request.method, request.url.path))
        return httpx.Response(404, json={"error": "gone"})

    async with vimeo(handler) as v:
        session = await v.init(SPEC)
        assert await v.abort(session)
    assert seen == [("DELETE", "/videos/42")]


@pytest.mark.parametrize("video, state", [
    ({"upload": {"status": "in_progress"}, "transcode": {"status": "in_progress"}}, "pending"),
    ({"upload": {"status": "complete"}, "transcode": {"status": "in_progress"}}, "in_progress"),
    ({"upload": {"status": "complete"}, "transcode": {"status": "complete"}}, "succeeded"),
    ({"upload": {"status": "complete"}, "transcode": {"status": "error"}}, "failed"),
    ({"upload": {"status": "error"}, "transcode": {"status": "in_progress"}}, "failed"),
])
def test_transcode_status(video, state):
    status = transcode_status(video)
    assert status.state == state
    if state == "failed":
        assert "status 'error'" in status.reason()


async def test_status_asks_only_the_fields_it_reads():
    seen = []

    def handler(request):
        seen.append(request.url)
        return httpx.Response(200, json={"upload": {"status": "complete"}, "transcode": {"status": "complete"}})

    async with vimeo(handler) as v:
        assert (await v.status("42")).state == "succeeded"
        with pytest.raises(ConfigurationError, match="transcoded"):
            await v.status("42", until="playable")
    assert seen[0].path == "/videos/42" and seen[0].params["fields"] == "uri,status,upload.status,transcode.status"
