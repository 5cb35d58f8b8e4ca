"""Cloudflare Stream's client on a mock transport: creation, the chunk rule, direct uploads, status and errors."""

import base64

import httpx
import pytest

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, MalformedResponse
from airflow_provider_chunkup.protocols.chunking import MiB, Segment
from airflow_provider_chunkup.protocols.cloudflare_stream import CloudflareStreamUpload, metadata_of, stream_status
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSpec

BASE = "https://api.cloudflare.com/client/v4"
ACCOUNT = "a" * 32
UID = "f" * 32
FAST = RetryPolicy(max_attempts=2, backoff_initial=0.001, backoff_max=0.002)
SPEC = UploadSpec(total_bytes=10, source="/data/launch.mp4", media_type="video/mp4")


def stream(handler, token="cf-tok", **kwargs):
    return CloudflareStreamUpload(account_id=ACCOUNT, token=token, api_base=BASE,
                                  transport=httpx.MockTransport(handler), retry=FAST, **kwargs)


def created(request):
    return httpx.Response(201, headers={"Location": f"{BASE}/accounts/{ACCOUNT}/media/{UID}",
                                        "stream-media-id": UID, "Tus-Resumable": "1.0.0"})


def decoded(header):
    pairs = (item.split(" ") for item in header.split(","))
    return {p[0]: base64.b64decode(p[1]).decode() if len(p) > 1 else None for p in pairs}


async def test_creation_is_a_tus_post_and_the_uid_comes_from_stream_media_id():
    seen = []

    def handler(request):
        seen.append(request)
        return created(request)

    spec = UploadSpec(total_bytes=10, source="/data/launch.mp4",
                      options={"requiresignedurls": True, "maxdurationseconds": 600, "meta": {"team": "promo"}})
    async with stream(handler) as s:
        session = await s.init(spec)
    request = seen[0]
    assert request.method == "POST" and request.url.path == f"/client/v4/accounts/{ACCOUNT}/stream"
    assert request.headers["Tus-Resumable"] == "1.0.0" and request.headers["Upload-Length"] == "10"
    assert request.headers["Authorization"] == "Bearer cf-tok"
    assert decoded(request.headers["Upload-Metadata"]) == {"name": "launch.mp4", "requiresignedurls": None,
                                                           "maxdurationseconds": "600", "team": "promo"}
    assert session.media_id == UID and not session.remote["link_only"]


async def test_token_mode_patches_with_the_token():
    seen = []

    def handler(request):
        if request.method == "POST":
            return created(request)
        seen.append(request)
        return httpx.Response(204, headers={"Upload-Offset": "10"})

    async with stream(handler) as s:
        session = await s.init(SPEC)
        await s.append(session, Segment(0, 0, 10), b"0123456789")
    assert seen[0].headers["Authorization"] == "Bearer cf-tok"


async def test_direct_upload_url_needs_no_token_and_no_creation():
    seen, secrets = [], []
    url = f"https://upload.videodelivery.net/tus/{UID}?tusv2=true"

    def handler(request):
        seen.append(request)
        return httpx.Response(204, headers={"Upload-Offset": "10"})

    async with stream(handler, token=None, on_secret=secrets.append) as s:
        session = await s.init(UploadSpec(total_bytes=10, source="/a.mp4", options={"upload_url": url}))
        await s.append(session, Segment(0, 0, 10), b"0123456789")
        assert not await s.abort(session)  # no token: nothing can delete it
    assert session.media_id == UID and secrets == [url]
    assert [r.method for r in seen] == ["PATCH"] and "Authorization" not in seen[0].headers


async def test_create_direct_upload_asks_direct_user():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(201, headers={"Location": f"https://upload.videodelivery.net/tus/{UID}?tusv2=true",
                                            "stream-media-id": UID})

    async with stream(handler) as s:
        made = await s.create_direct_upload(123, {"name": "n", "expiry": "2031-01-01T00:00:00Z"}, creator="me")
    assert made == {"uid": UID, "upload_url": f"https://upload.videodelivery.net/tus/{UID}?tusv2=true"}
    assert seen[0].url.params["direct_user"] == "true" and seen[0].headers["Upload-Creator"] == "me"
    assert decoded(seen[0].headers["Upload-Metadata"])["expiry"] == "2031-01-01T00:00:00Z"


@pytest.mark.parametrize("chunk", [5 * MiB + 1, 4 * MiB, 201 * MiB, 6 * MiB + 1024])
def test_chunk_sizes_outside_the_rule_are_refused(chunk):
    with pytest.raises(ConfigurationError, match="multiples of 262144"):
        CloudflareStreamUpload(account_id=ACCOUNT, token="t", default_chunk_bytes=chunk)


@pytest.mark.parametrize("options, match", [
    ({"maxdurationseconds": 0}, "maxdurationseconds"),
    ({"thumbnailtimestamppct": 2}, "thumbnailtimestamppct"),
    ({"expiry": "tomorrow"}, "RFC 3339"),
    ({"meta": {"name": "x"}}, "meta key 'name'"),
    ({"title": "t"}, "not title"),
    ({"upload_url": "ftp://x"}, "http"),
    ({"upload_url": "https://u/x", "name": "n"}, "only upload_url"),
])
async def test_bad_options_fail_before_any_request(options, match):
    def handler(request):
        raise AssertionError("no request expected")

    async with stream(handler) as s:
        with pytest.raises(ConfigurationError, match=match):
            await s.init(UploadSpec(total_bytes=10, source="/a.mp4", options=options))


@pytest.mark.parametrize("chunk, match", [(6 * MiB + 1024, "multiples of 262144"), (1000, "outside"),
                                          (201 * MiB, "outside")])
async def test_chunk_size_of_one_upload_follows_the_rule(chunk, match):
    def handler(request):
        raise AssertionError("no request expected")

    async with stream(handler) as s:
        with pytest.raises(ConfigurationError, match=match):
            await s.init(UploadSpec(total_bytes=10, source="/a.mp4", chunk_size=chunk))


async def test_creation_without_a_token_names_the_choices():
    async with stream(lambda r: created(r), token=None) as s:
        with pytest.raises(ConfigurationError, match="upload_url"):
            await s.init(SPEC)


async def test_creation_without_stream_media_id_is_malformed():
    async with stream(lambda r: httpx.Response(201, headers={"Location": "/x"})) as s:
        with pytest.raises(MalformedResponse, match="stream-media-id"):
            await s.init(SPEC)


async def test_envelope_errors_in_words():
    def handler(request):
        return httpx.Response(401, json={"result": None, "success": False, "messages": [],
                                         "errors": [{"code": 10000, "message": "Authentication error"}]})

    async with stream(handler) as s:
        with pytest.raises(AuthenticationFailed, match=r"Authentication error \(code 10000\).*Stream Edit"):
            await s.init(SPEC)


@pytest.mark.parametrize("status, until, state", [
    ({"state": "pendingupload"}, "ready", "pending"),
    ({"state": "queued"}, "ready", "in_progress"),
    ({"state": "inprogress", "pctComplete": "42.500000"}, "ready", "in_progress"),
    ({"state": "ready", "pctComplete": "100.000000"}, "ready", "succeeded"),
    ({"state": "error", "errorReasonCode": "ERR_MALFORMED_VIDEO", "errorReasonText": "bad file"}, "ready", "failed"),
])
def test_stream_status(status, until, state):
    got = stream_status({"status": status}, until)
    assert got.state == state
    if "pctComplete" in status:
        assert got.progress_percent == float(status["pctComplete"])
    if state == "failed":
        assert got.reason() == "error ERR_MALFORMED_VIDEO: bad file"


def test_playable_once_ready_to_stream():
    video = {"status": {"state": "inprogress", "pctComplete": "30.0"}, "readyToStream": True}
    assert stream_status(video, "playable").state == "succeeded"
    assert stream_status(video, "ready").state == "in_progress"


def test_metadata_flags_are_bare_keys():
    assert metadata_of({"requiresignedurls": False, "name": "n"}) == {"name": "n"}
    assert metadata_of({"requiresignedurls": True, "allowedorigins": ["a.com", "b.com"]}) == {
        "requiresignedurls": "", "allowedorigins": "a.com,b.com"}
