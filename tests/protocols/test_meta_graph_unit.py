"""Facebook's Graph video client on a mock transport: what each phase sends, windows, errors, status, bad input."""

import gc
import hashlib
import hmac
import json
import re
from urllib.parse import parse_qs

import httpx
import pytest

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    PlanError,
    RateLimited,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.chunking import GiB, KiB, Segment
from airflow_provider_chunkup.protocols.meta_graph import MetaGraphVideoUpload, target_path, video_status
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSpec
from airflow_provider_chunkup.protocols.transfer import upload
from airflow_provider_chunkup.sources import ChunkSource

BASE = "https://graph-video.facebook.com"
FAST = RetryPolicy(max_attempts=3, backoff_initial=0.001, backoff_max=0.002)
SPEC = UploadSpec(total_bytes=4 * KiB, source="/data/launch.mp4", media_type="video/mp4")


def form(request: httpx.Request) -> dict[str, str]:
    """The request's fields (urlencoded or multipart); a multipart file part's bytes under its name."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    boundary = re.search(r"boundary=(\S+)", kind)[1].encode()
    fields = {}
    for part in request.content.split(b"--" + boundary)[1:-1]:
        head, _, value = part[2:-2].partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)[1].decode()
        fields[name] = value if b"filename=" in head else value.decode()
    return fields


def graph_error(code, message, subcode=None, *, transient=False, data=None, headers=None, user_msg=""):
    error = {"message": message, "type": "OAuthException", "code": code, "is_transient": transient,
             "error_user_msg": user_msg, "fbtrace_id": "Abc"}
    if subcode is not None:
        error["error_subcode"] = subcode
    if data is not None:
        error["error_data"] = data
    return httpx.Response(400, json={"error": error}, headers=headers)


class Graph:
    """Graph's start/transfer/finish on one video: windows of ``window`` bytes; ``faults`` answer transfers first."""

    def __init__(self, window: int = 1 * KiB, faults: list[httpx.Response] | None = None) -> None:
        self.window = window
        self.faults = list(faults or [])
        self.requests: list[tuple[httpx.Request, dict]] = []
        self.file = bytearray()
        self.size = 0

    def answer(self, start: int) -> dict:
        return {"start_offset": str(start), "end_offset": str(min(start + self.window, self.size))}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        fields = form(request) if request.method == "POST" else dict(request.url.params)
        self.requests.append((request, fields))
        if request.method == "GET":
            return httpx.Response(200, json={"id": "99", "status": {"video_status": "ready"}})
        phase = fields["upload_phase"]
        if phase == "start":
            self.size = int(fields["file_size"])
            return httpx.Response(200, json={"upload_session_id": "s1", "video_id": "99", **self.answer(0)})
        if phase == "transfer":
            if self.faults:
                return self.faults.pop(0)
            start = int(fields["start_offset"])
            assert start == len(self.file), "a window Graph did not ask for"
            self.file += fields["video_file_chunk"]
            return httpx.Response(200, json=self.answer(len(self.file)))
        return httpx.Response(200, json={"success": True})

    def transfers(self) -> list[dict]:
        return [f for _, f in self.requests if f.get("upload_phase") == "transfer"]


def graph(handler, **kwargs) -> MetaGraphVideoUpload:
    return MetaGraphVideoUpload(api_base=BASE, token="tok-123", target=kwargs.pop("target", "page:42"),
                                transport=httpx.MockTransport(handler), retry=kwargs.pop("retry", FAST), **kwargs)


@pytest.fixture
def clip(media_file):
    return media_file(4 * KiB + 10)


async def test_start_transfer_finish_on_the_wire(clip):
    server = Graph(window=1 * KiB)
    spec = UploadSpec(total_bytes=clip.stat().st_size, source=str(clip), chunk_size=2 * KiB,
                      options={"title": "Launch", "description": "d", "published": False})
    async with graph(server, app_secret="app-secret") as g:
        result = await upload(g, ChunkSource(clip), spec)
    data = clip.read_bytes()
    assert bytes(server.file) == data and result.sha256 == hashlib.sha256(data).hexdigest()
    start, *_ = server.requests
    assert start[0].url.path == "/v23.0/42/videos" and start[0].url.host == "graph-video.facebook.com"
    proof = hmac.new(b"app-secret", b"tok-123", hashlib.sha256).hexdigest()
    assert start[1] == {"access_token": "tok-123", "appsecret_proof": proof, "upload_phase": "start",
                        "file_size": str(len(data))}
    assert "tok-123" not in str(start[0].url)  # the token goes in the form, not the URL
    assert [t["start_offset"] for t in server.transfers()] == ["0", "1024", "2048", "3072", "4096"]
    assert all(t["upload_session_id"] == "s1" for t in server.transfers())
    finish = next(f for _, f in server.requests if f.get("upload_phase") == "finish")
    assert (finish["title"], finish["description"], finish["published"]) == ("Launch", "d", "false")
    status = server.requests[-1][0]
    assert status.method == "GET" and str(status.url).startswith("https://graph.facebook.com/v23.0/99?")
    assert status.url.params["fields"] == "status" and status.headers["Authorization"] == "OAuth tok-123"
    assert result.media_id == "99" and result.processing_status.state == "succeeded"


async def test_windows_are_kept_as_graph_sends_them():
    async with graph(Graph(window=1 * KiB)) as g:
        session = await g.init(SPEC)
        assert session.remote["start_offset"] == "0" and session.remote["end_offset"] == "1024"
        assert session.plan_kind == "windows" and session.media_id == "99"
        assert await g.next_window(session) == Segment(1, 0, 1024)
        assert "tok-123" not in json.dumps(session.to_dict())


async def test_the_title_defaults_to_the_file_name(clip):
    server = Graph(window=8 * KiB)
    async with graph(server) as g:
        await upload(g, ChunkSource(clip), UploadSpec(total_bytes=clip.stat().st_size, source=str(clip)))
    finish = next(f for _, f in server.requests if f.get("upload_phase") == "finish")
    assert finish["title"] == clip.name and "published" not in finish


async def test_ad_account_target_path():
    assert target_path("act_7", "v23.0") == "/v23.0/act_7/advideos"
    server = Graph()
    async with graph(server, target="act_7", graph_version="v21.0") as g:
        await g.init(SPEC)
    assert server.requests[0][0].url.path == "/v21.0/act_7/advideos"


async def test_a_wrong_offset_sends_the_window_in_error_data(clip):
    wrong = graph_error(6001, "Invalid start offset", 1363037, data={"start_offset": "0", "end_offset": "512"})
    server = Graph(window=1 * KiB, faults=[wrong])
    async with graph(server) as g:
        await upload(g, ChunkSource(clip), UploadSpec(total_bytes=clip.stat().st_size, source=str(clip)))
    assert bytes(server.file) == clip.read_bytes()
    sent = [(t["start_offset"], len(t["video_file_chunk"])) for t in server.transfers()]
    assert sent[:3] == [("0", 1024), ("0", 512), ("512", 1024)]  # Graph's window from error_data, then on


async def test_wrong_offsets_are_bounded():
    wrong = [graph_error(6001, "Invalid start offset", 1363037, data={"start_offset": "0", "end_offset": "1024"})
             for _ in range(50)]
    async with graph(Graph(faults=wrong)) as g:
        session = await g.init(SPEC)
        with pytest.raises(RetryExhausted, match="wrong offset"):
            for _ in range(50):
                await g.append(session, await g.next_window(session), bytes(1024))


async def test_transient_errors_are_resent_then_given_up():
    transient = [graph_error(6001, "There was a problem uploading your video. Please try again.", 1363019,
                             transient=True) for _ in range(2)]
    server = Graph(faults=list(transient))
    async with graph(server) as g:
        session = await g.init(SPEC)
        await g.append(session, await g.next_window(session), bytes(1024))
    assert len(server.transfers()) == 3 and session.remote["start_offset"] == "1024"
    server = Graph(faults=transient * 2)
    async with graph(server) as g:
        session = await g.init(SPEC)
        with pytest.raises(RetryExhausted, match=r"1363019.*gave up after 3 attempts"):
            await g.append(session, await g.next_window(session), bytes(1024))


async def test_a_lost_session_is_expired():
    lost = graph_error(6000, "Your video upload timed out before it could be completed.", 1363030,
                       user_msg="The upload session is gone: start a new upload.")
    async with graph(Graph(faults=[lost])) as g:
        session = await g.init(SPEC)
        with pytest.raises(UploadExpired) as caught:
            await g.append(session, await g.next_window(session), bytes(1024))
    message = str(caught.value)
    assert "Graph error 6000/1363030" in message and "start a new upload" in message
    assert "restart_expired" in message


async def test_throttling_is_waited_out():
    usage = {"42": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 0}]}
    throttled = graph_error(32, "(#32) Page request limit reached", transient=True,
                            headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    server = Graph(faults=[throttled])
    async with graph(server) as g:
        session = await g.init(SPEC)
        await g.append(session, await g.next_window(session), bytes(1024))
    assert len(server.transfers()) == 2


async def test_throttling_past_the_budget_says_how_long():
    usage = {"42": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 30}]}
    throttled = graph_error(32, "(#32) Page request limit reached", transient=True,
                            headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    async with graph(Graph(faults=[throttled]), retry=RetryPolicy(max_attempts=3, max_elapsed=60)) as g:
        session = await g.init(SPEC)
        with pytest.raises(RateLimited, match=r"Graph error 32.*minutes") as caught:
            await g.append(session, await g.next_window(session), bytes(1024))
    assert caught.value.retry_after == 1800


async def test_graph_errors_in_words():
    def bad_token(request):
        return graph_error(190, "Error validating access token: Session has expired.",
                           user_msg="Your session expired.")

    async with graph(bad_token) as g:
        with pytest.raises(AuthenticationFailed) as caught:
            await g.init(SPEC)
    message = str(caught.value)
    assert "Graph error 190" in message and "Your session expired." in message and "password" in message
    assert "tok-123" not in message

    def no_permission(request):
        return graph_error(6000, "No permission to upload videos to 'act_1'.", 1363042)

    async with graph(no_permission) as g:
        with pytest.raises(AuthenticationFailed, match=r"1363042.*ads_management"):
            await g.init(SPEC)


async def test_answers_without_a_window_are_malformed():
    def no_window(request):
        return httpx.Response(200, json={"upload_session_id": "s1", "video_id": "99"})

    async with graph(no_window) as g:
        with pytest.raises(MalformedResponse, match="without a window"):
            await g.init(SPEC)


async def test_a_window_beyond_the_buffer_names_the_chunk_size(clip):
    async with graph(Graph(window=4 * KiB)) as g:
        with pytest.raises(PlanError, match="chunk_size"):
            await upload(g, ChunkSource(clip), UploadSpec(total_bytes=clip.stat().st_size, chunk_size=1 * KiB))


async def test_finalize_before_every_byte_is_refused():
    server = Graph()
    async with graph(server) as g:
        session = await g.init(SPEC)
        with pytest.raises(ConfigurationError, match="run append"):
            await g.finalize(session)
    assert len(server.requests) == 1


@pytest.mark.parametrize(("spec", "match"), [
    (UploadSpec(total_bytes=1023), "at least 1024 bytes"),
    (UploadSpec(total_bytes=10 * GiB + 1), "at most 10737418240 bytes"),
    (UploadSpec(total_bytes=SPEC.total_bytes, options={"caption": "x"}), "not caption"),
    (UploadSpec(total_bytes=SPEC.total_bytes, options={"title": "t" * 256}), "at most 255 characters; got 256"),
    (UploadSpec(total_bytes=SPEC.total_bytes, options={"title": 5}), "title must be text"),
    (UploadSpec(total_bytes=SPEC.total_bytes, options={"description": "d" * 5001}), "at most 5000"),
    (UploadSpec(total_bytes=SPEC.total_bytes, options={"published": "yes"}), "true or false"),
    (UploadSpec(total_bytes=SPEC.total_bytes, chunk_size=2 * GiB), "chunk_size"),
], ids=["too-small", "too-large", "unknown-option", "long-title", "title-type", "long-description",
        "published-type", "buffer-too-large"])
async def test_bad_input_fails_before_any_request(spec, match):
    server = Graph()
    async with graph(server) as g:
        with pytest.raises(ConfigurationError, match=match):
            await g.init(spec)
    assert server.requests == []


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"token": ""}, "access token"),
    ({"target": "42"}, "page:<page-id>"),
    ({"target": "page:abc"}, "page:<page-id>"),
    ({"graph_version": "23.0"}, "v23.0"),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        MetaGraphVideoUpload(**{"token": "t", "target": "page:1", **kwargs})


def test_status_states_and_reasons_verbatim():
    processing = video_status({"status": {"video_status": "processing", "processing_progress": 40,
                                          "uploading_phase": {"status": "complete"},
                                          "processing_phase": {"status": "in_progress"}}})
    assert processing.state == "in_progress" and processing.progress_percent == 40
    assert video_status({"status": {"video_status": "processing",
                                    "uploading_phase": {"status": "in_progress"}}}).state == "pending"
    assert video_status({"status": {"video_status": "ready"}}).state == "succeeded"
    failed = video_status({"status": {"video_status": "error", "uploading_phase": {"status": "complete"},
                                      "processing_phase": {"status": "error", "errors": [
                                          {"code": 1363008, "message": "Video file is corrupt"}]}}})
    assert failed.failed and failed.error["name"] == "processing_phase"
    assert "Video file is corrupt" in failed.error["message"]
    assert failed.error["errors"] == [{"code": 1363008, "message": "Video file is corrupt"}]
    with pytest.raises(MalformedResponse):
        video_status({"id": "99"})


async def test_status_until_only_ready():
    async with graph(Graph()) as g:
        with pytest.raises(ConfigurationError, match="ready"):
            await g.status("99", until="published")


class Counting(Graph):
    """Graph that hashes what arrives instead of keeping it: memory measured is the client's."""

    def __init__(self, window: int) -> None:
        super().__init__(window)
        self.digest = hashlib.sha256()
        self.received = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and b'name="upload_phase"\r\n\r\ntransfer' in request.content:
            body = request.content  # the mock transport's copy of the request: the window and a few fields
            start = body.index(b"\r\n\r\n", body.index(b'name="video_file_chunk"')) + 4
            end = body.rindex(b"\r\n--")
            self.digest.update(memoryview(body)[start:end])
            self.received += end - start
            del body
            # The mock transport reads each request whole (a copy a real transport never makes) and keeps it in
            # request/response reference cycles: collect them, so the peak measures the client alone.
            gc.collect()
            return httpx.Response(200, json=self.answer(self.received))
        return super().__call__(request)


async def test_memory_stays_within_a_few_windows(media_file):
    """One reused buffer of chunk_size holds every window; the multipart body streams it without a copy."""
    import tracemalloc

    path = media_file(16 * 1024 * KiB)
    server = Counting(window=1024 * KiB)
    spec = UploadSpec(total_bytes=path.stat().st_size, chunk_size=1024 * KiB)
    async with graph(server) as g:
        tracemalloc.start()
        try:
            result = await upload(g, ChunkSource(path), spec)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert server.digest.hexdigest() == result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert peak < 6 * 1024 * KiB  # the buffer, and the mock server's own copies of one request: not 16 MiB


async def test_no_secret_in_logs_or_errors(caplog):
    transient = graph_error(6001, "There was a problem uploading your video. Please try again.", 1363019,
                            transient=True)
    server = Graph(faults=[transient, graph_error(190, "Error validating access token")])
    caplog.set_level("DEBUG")
    async with graph(server, app_secret="app-secret") as g:
        session = await g.init(SPEC)
        with pytest.raises(AuthenticationFailed) as caught:
            await g.append(session, await g.next_window(session), bytes(1024))
    text = caplog.text + str(caught.value) + json.dumps(session.to_dict())
    assert "tok-123" not in text and "app-secret" not in text and g.proof not in text
