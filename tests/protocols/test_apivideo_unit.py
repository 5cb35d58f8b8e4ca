"""api.video protocol pieces on a mock transport: bearer flow, error mapping, status mapping, validation."""

import json

import httpx
import pytest

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, RemoteRejected
from airflow_provider_chunkup.protocols.apivideo import ApiVideoBearerAuth, ApiVideoUpload, encoding_status
from airflow_provider_chunkup.protocols.chunking import GiB, MiB
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSpec

FAST = RetryPolicy(max_attempts=2, backoff_initial=0.001, backoff_max=0.01)


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def tokens(n):
    return {"token_type": "Bearer", "expires_in": 3600, "access_token": f"access-{n}", "refresh_token": f"refresh-{n}"}


async def test_bearer_flow_gets_refreshes_and_retries_once_on_401():
    calls, seen, masked = [], [], []
    issued = iter(range(1, 10))

    def handler(request):
        calls.append(request.url.path)
        if request.url.path == "/auth/api-key":
            assert json.loads(request.content) == {"apiKey": "the-key"}
            return httpx.Response(200, json=tokens(next(issued)))
        if request.url.path == "/auth/refresh":
            return httpx.Response(200, json=tokens(next(issued)))
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer access-1" and len(seen) == 2:
            return httpx.Response(401, json={"title": "expired", "status": 401})
        return httpx.Response(200, json={"ingest": {"status": "uploaded"}, "encoding": {"playable": True}})

    clock = Clock()
    auth = ApiVideoBearerAuth("the-key", on_token=masked.append, clock=clock)
    async with ApiVideoUpload(auth=auth, base_url="http://av.test", retry=FAST,
                              transport=httpx.MockTransport(handler)) as av:
        assert (await av.status("vi1")).done
        assert (await av.status("vi1")).done  # 401 -> refresh -> same request again
        clock.now += 3600  # expired: refreshed before the request
        assert (await av.status("vi1")).done
    assert calls == ["/auth/api-key", "/videos/vi1/status", "/videos/vi1/status", "/auth/refresh",
                     "/videos/vi1/status", "/auth/refresh", "/videos/vi1/status"]
    assert seen == ["Bearer access-1", "Bearer access-1", "Bearer access-2", "Bearer access-3"]
    assert {"access-1", "refresh-1", "access-2", "access-3"} <= set(masked)
    assert "the-key" not in repr(auth)


async def test_wrong_api_key_in_bearer_flow_is_an_auth_error():
    body = {"type": "https://docs.api.video/reference/authentication-invalid-user-credentials",
            "title": "The user credentials were incorrect.", "name": "", "status": 400}
    transport = httpx.MockTransport(lambda r: httpx.Response(400, json=body))
    async with ApiVideoUpload(auth=ApiVideoBearerAuth("bad"), base_url="http://av.test", transport=transport) as av:
        with pytest.raises(AuthenticationFailed, match="authentication-invalid-user-credentials"):
            await av.status("vi1")


async def test_errors_keep_api_videos_words():
    body = {"type": "https://docs.api.video/reference/video-source-already-uploaded",
            "title": "The source of the video is already uploaded.", "name": "file", "status": 400}
    transport = httpx.MockTransport(lambda r: httpx.Response(400, json=body))
    async with ApiVideoUpload(auth=httpx.BasicAuth("k", ""), base_url="http://av.test", retry=FAST,
                              transport=transport) as av:
        with pytest.raises(RemoteRejected) as e:
            await av.init(UploadSpec(total_bytes=10, source="/x/clip.mp4"))
    assert "The source of the video is already uploaded. (video-source-already-uploaded) [file]" in str(e.value)
    assert e.value.body == body


async def test_create_video_payload():
    def handler(request):
        body = json.loads(request.content)
        assert body == {"title": "Launch", "tags": ["a"], "metadata": [{"key": "team", "value": "media"}],
                        "public": False}
        assert request.headers["Authorization"].startswith("Basic ")
        return httpx.Response(201, json={"videoId": "vi123", "title": "Launch"})

    async with ApiVideoUpload(auth=httpx.BasicAuth("k", ""), base_url="http://av.test",
                              transport=httpx.MockTransport(handler)) as av:
        session = await av.init(UploadSpec(total_bytes=12 * MiB, source="/x/clip.mp4", options={
            "title": "Launch", "tags": ["a"], "metadata": {"team": "media"}, "public": False}))
    assert session.media_id == "vi123" and session.chunk_size == 50 * MiB
    assert session.remote == {"mode": "part", "token": False}


async def test_title_defaults_to_the_file_name():
    def handler(request):
        assert json.loads(request.content) == {"title": "clip.mp4"}
        return httpx.Response(201, json={"videoId": "vi1"})

    async with ApiVideoUpload(auth=httpx.BasicAuth("k", ""), base_url="http://av.test",
                              transport=httpx.MockTransport(handler)) as av:
        await av.init(UploadSpec(total_bytes=10, source="s3://bucket/clip.mp4"))


@pytest.mark.parametrize(("kwargs", "spec", "message"), [
    ({}, UploadSpec(total_bytes=31 * GiB), "up to"),
    ({}, UploadSpec(total_bytes=10, options={"name": "x"}), "no field name"),
    ({"upload_token": "to1"}, UploadSpec(total_bytes=10, options={"title": "x"}), "upload token"),
    ({}, UploadSpec(total_bytes=10, chunk_size=1 * MiB), "outside api.video's bounds"),
])
async def test_invalid_specs_fail_before_any_request(kwargs, spec, message):
    def handler(request):
        raise AssertionError("no request expected")

    async with ApiVideoUpload(auth=httpx.BasicAuth("k", ""), base_url="http://av.test",
                              transport=httpx.MockTransport(handler), **kwargs) as av:
        with pytest.raises(ConfigurationError, match=message):
            await av.init(spec)


def test_bad_mode_and_until():
    with pytest.raises(ConfigurationError, match="upload_mode"):
        ApiVideoUpload(auth=None, mode="chunks")
    with pytest.raises(ConfigurationError, match="'until'"):
        ApiVideoUpload(auth=None, until="done")


def quality(q, status, kind="hls"):
    return {"type": kind, "quality": q, "status": status}


def test_encoding_status_mapping():
    uploading = {"ingest": {"status": "uploading"}, "encoding": {"playable": False, "qualities": []}}
    assert encoding_status(uploading).state == "pending"
    playable = {"ingest": {"status": "uploaded"},
                "encoding": {"playable": True, "qualities": [quality("360p", "encoded"), quality("720p", "encoding")]}}
    assert encoding_status(playable, "playable").state == "succeeded"
    still = encoding_status(playable, "encoded")
    assert still.state == "in_progress" and still.progress_percent == 50
    done = {"ingest": {"status": "uploaded"},
            "encoding": {"playable": True, "qualities": [quality("360p", "encoded"), quality("720p", "encoded")]}}
    assert encoding_status(done, "encoded").state == "succeeded"
    failed = {"ingest": {"status": "uploaded"},
              "encoding": {"playable": True, "qualities": [quality("360p", "encoded"), quality("1080p", "failed")]}}
    status = encoding_status(failed, "playable")
    assert status.failed and status.reason() == "encoding-failed: api.video failed to encode hls 1080p"
