"""The rupload clients (Instagram Reels, Facebook Page Reels) on a mock transport: what is sent, resume from
bytes_transferred, Graph's and rupload's errors in words, states, and refusals before any request."""

import json
import re
from urllib.parse import parse_qs

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
from airflow_provider_chunkup.protocols.chunking import GiB, Segment
from airflow_provider_chunkup.protocols.facebook_reels import FacebookReelsUpload, reel_status
from airflow_provider_chunkup.protocols.instagram import InstagramReelsUpload, container_status
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.rupload import meta_error
from airflow_provider_chunkup.protocols.session import UploadSession, UploadSpec

BASE = "https://graph.facebook.com"
URI = "https://rupload.facebook.com/ig-api-upload/v23.0/17000000000000001"
FAST = RetryPolicy(max_attempts=3, backoff_initial=0.001, backoff_max=0.002)


def instagram(handler, retry=FAST):
    return InstagramReelsUpload(api_base=BASE, token="tok-123", ig_user_id="42", retry=retry,
                                transport=httpx.MockTransport(handler))


def reels(handler):
    return FacebookReelsUpload(api_base=BASE, token="tok-123", page_id="7", retry=FAST,
                               transport=httpx.MockTransport(handler))


def graph_error(code, message, subcode=None, transient=False, status=400):
    error = {"message": message, "type": "OAuthException", "code": code, "is_transient": transient,
             "fbtrace_id": "AbC"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


def ig_session(total=10, chunk=4):
    session = UploadSession(api="instagram", media_id="17000000000000001", total_bytes=total, chunk_size=chunk,
                            source="/data/reel.mp4", remote={"upload_uri": URI})
    return session


def held_answer(held):
    return httpx.Response(200, json={"id": "17000000000000001", "status_code": "IN_PROGRESS",
                                     "video_status": {"uploading_phase": {"status": "in_progress",
                                                                          "bytes_transferred": held}}})


async def test_create_then_rupload_sends_the_headers_and_the_bytes():
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.path == "/v23.0/42/media":
            return httpx.Response(200, json={"id": "17000000000000001", "uri": URI})
        return httpx.Response(200, json={"success": True, "message": "Upload successful."})

    spec = UploadSpec(total_bytes=10, source="/data/reel.mp4",
                      options={"caption": "Hi #there", "share_to_feed": True, "user_tags": [{"username": "a"}]})
    async with instagram(handler) as ig:
        session = await ig.init(spec)
        await ig.append(session, Segment(0, 0, 10), b"0123456789")
    create, upload = seen
    form = parse_qs(create.content.decode())
    assert form == {"media_type": ["REELS"], "upload_type": ["resumable"], "caption": ["Hi #there"],
                    "share_to_feed": ["true"], "user_tags": [json.dumps([{"username": "a"}])]}
    assert create.headers["Authorization"] == "OAuth tok-123" and "tok-123" not in str(create.url)
    assert str(upload.url) == URI and upload.headers["Authorization"] == "OAuth tok-123"
    assert upload.headers["offset"] == "0" and upload.headers["file_size"] == "10" and upload.content == b"0123456789"
    assert session.plan_kind == "fixed" and session.remote["upload_uri"] == URI


async def test_a_new_task_reads_bytes_transferred_and_sends_the_rest_of_the_segment():
    seen = []

    def handler(request):
        seen.append(request)
        if request.method == "GET":
            return held_answer(6)
        return httpx.Response(200, json={"success": True})

    async with instagram(handler) as ig:
        await ig.append(ig_session(), Segment(1, 4, 4), b"4567")
    get, post = seen
    assert get.url.params["fields"] == "status_code,status,video_status"
    assert post.headers["offset"] == "6" and post.content == b"67"


async def test_a_segment_the_server_holds_is_not_sent_and_one_after_a_gap_is_refused():
    seen = []

    def handler(request):
        seen.append(request)
        return held_answer(8)

    async with instagram(handler) as ig:
        await ig.append(ig_session(), Segment(1, 4, 4), b"4567")
    assert [r.method for r in seen] == ["GET"]

    async with instagram(lambda r: held_answer(0)) as ig:
        with pytest.raises(RemoteRejected, match=r"holds 0 bytes.*in order"):
            await ig.append(ig_session(), Segment(2, 8, 2), b"89")


async def test_a_cut_body_is_resumed_from_what_the_server_kept():
    posts, held = [], [0]

    def handler(request):
        if request.method == "GET":
            return held_answer(held[0])
        posts.append((request.headers["offset"], request.content))
        if len(posts) == 1:
            held[0] = 2  # the server kept two bytes of the cut body
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"success": True})

    async with instagram(handler) as ig:
        await ig.append(ig_session(), Segment(0, 0, 4), b"0123")
    assert posts == [("0", b"0123"), ("2", b"23")]


async def test_retriable_rupload_refusals_are_resent_from_the_servers_offset_and_others_raise():
    answers = [httpx.Response(409, json={"debug_info": {"retriable": True, "type": "ProcessingFailedError",
                                                        "message": "Another request is writing this upload"}}),
               httpx.Response(200, json={"success": True})]
    posts = []

    def handler(request):
        if request.method == "GET":
            return held_answer(0)
        posts.append(request)
        return answers.pop(0)

    async with instagram(handler) as ig:
        await ig.append(ig_session(), Segment(0, 0, 4), b"0123")
    assert len(posts) == 2

    def refuse(request):
        if request.method == "GET":
            return held_answer(0)
        return httpx.Response(400, json={"debug_info": {"retriable": False, "type": "ProcessingFailedError",
                                                        "message": "file_size 10 differs"}})

    async with instagram(refuse) as ig:
        with pytest.raises(RemoteRejected, match="ProcessingFailedError: file_size 10 differs \\(not retriable\\)"):
            await ig.append(ig_session(), Segment(0, 0, 4), b"0123")


async def test_failures_past_the_attempts_give_up_saying_a_retry_sends_only_the_rest():
    def handler(request):
        if request.method == "GET":
            return held_answer(0)
        return httpx.Response(503, text="busy")

    async with instagram(handler, retry=RetryPolicy(max_attempts=2, backoff_initial=0.001, backoff_max=0.002)) as ig:
        with pytest.raises(RetryExhausted, match=r"gave up after 2 tries.*sends only the rest"):
            await ig.append(ig_session(), Segment(0, 0, 4), b"0123")


@pytest.mark.parametrize(("response", "cls", "words"), [
    (graph_error(190, "Invalid OAuth access token."), AuthenticationFailed,
     r"Invalid OAuth access token. \(Graph error 190, fbtrace_id AbC\). Check the access token"),
    (graph_error(4, "(#4) Application request limit reached", transient=True), RateLimited, "X-App-Usage"),
    (graph_error(6000, "The session was lost", 1363030), UploadExpired, "6000/1363030.*start a new upload"),
    (graph_error(9007, "Media ID is not available", 2207027), RemoteRejected, "status_code is FINISHED"),
    (graph_error(100, "Unsupported post request", 33), RemoteRejected, "Graph error 100/33"),
    (httpx.Response(401, json={"debug_info": {"retriable": False, "type": "AuthError", "message": "bad token"}}),
     AuthenticationFailed, "AuthError: bad token.*access token"),
    (httpx.Response(404, json={"debug_info": {"retriable": False, "type": "NotFoundError", "message": "no upload"}}),
     RemoteRejected, "may have expired"),
    (httpx.Response(502, text="<html>bad gateway</html>"), Exception, "bad gateway"),
])
def test_errors_in_words(response, cls, words):
    error = meta_error(response, "Instagram step")
    assert isinstance(error, cls)
    assert error.args[0].startswith("Instagram step failed with HTTP")
    assert re.search(words, str(error))


async def test_a_transient_graph_error_is_retried():
    answers = [graph_error(1, "An unknown error occurred", transient=True),
               httpx.Response(200, json={"id": "1", "uri": URI})]

    async with instagram(lambda r: answers.pop(0)) as ig:
        session = await ig.init(UploadSpec(total_bytes=10, source="/data/reel.mp4"))
    assert session.media_id == "1"


async def test_a_create_answer_without_a_uri_is_malformed():
    async with instagram(lambda r: httpx.Response(200, json={"id": "1"})) as ig:
        with pytest.raises(MalformedResponse, match="without an id and a rupload uri"):
            await ig.init(UploadSpec(total_bytes=10, source="/data/reel.mp4"))


def never(request):
    raise AssertionError(f"no request expected, got {request.method} {request.url}")


@pytest.mark.parametrize(("options", "size", "message"), [
    ({}, GiB + 1, "at most 1073741824"),
    ({}, 0, "empty"),
    ({"caption": "c" * 2201}, 10, "at most 2200"),
    ({"media_type": "CAROUSEL"}, 10, "media_type 'CAROUSEL'"),
    ({"thumb_offset": -1}, 10, "thumb_offset"),
    ({"caption": 5}, 10, "must be text"),
])
async def test_instagram_refuses_bad_input_before_any_request(options, size, message):
    async with instagram(never) as ig:
        with pytest.raises(ConfigurationError, match=message):
            await ig.init(UploadSpec(total_bytes=size, source="/data/reel.mp4", options=options))


@pytest.mark.parametrize(("options", "message"), [
    ({"video_state": "PRIVATE"}, "video_state 'PRIVATE'"),
    ({"video_state": "SCHEDULED", "scheduled_publish_time": "tomorrow"}, "Unix seconds"),
    ({"unknown": 1}, "not unknown"),
])
async def test_reels_refuse_bad_input_before_any_request(options, message):
    async with reels(never) as fb:
        with pytest.raises(ConfigurationError, match=message):
            await fb.init(UploadSpec(total_bytes=10, source="/data/reel.mp4", options=options))


def test_constructor_checks():
    with pytest.raises(ConfigurationError, match="access token"):
        InstagramReelsUpload(token="", ig_user_id="1")
    with pytest.raises(ConfigurationError, match="numeric id"):
        InstagramReelsUpload(token="t", ig_user_id="me")
    with pytest.raises(ConfigurationError, match="page_id"):
        FacebookReelsUpload(token="t", page_id="")


async def test_publish_never_twice_and_the_sensors_until():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"id": "9", "status_code": "PUBLISHED", "status": "Published"})

    async with instagram(handler) as ig:
        assert (await ig.publish("9"))["already_published"]
        with pytest.raises(ConfigurationError, match="until"):
            await ig.status("9", until="ready")
    assert [r.method for r in seen] == ["GET"]


async def test_reels_finish_sends_the_state_and_the_description_once():
    seen, finished = [], [False]

    def handler(request):
        seen.append(request)
        if request.method == "POST":
            finished[0] = True
            return httpx.Response(200, json={"success": True})
        phase = "in_progress" if finished[0] else "not_started"
        return httpx.Response(200, json={"id": "5", "status": {
            "video_status": "processing", "processing_progress": 0,
            "uploading_phase": {"status": "complete", "bytes_transferred": 10},
            "processing_phase": {"status": phase}, "publishing_phase": {"status": "not_started"}}})

    session = UploadSession(api="facebook_reels", media_id="5", total_bytes=10, chunk_size=10,
                            source="/data/reel.mp4",
                            remote={"upload_uri": "https://rupload.facebook.com/video-upload/v23.0/5",
                                    "finish": {"video_state": "DRAFT", "description": "Hello"}})
    async with reels(handler) as fb:
        result = await fb.finalize(session)
        assert not (await fb.publish("5", {"video_state": "PUBLISHED"}))["finished"]
    posts = [r for r in seen if r.method == "POST"]
    assert len(posts) == 1 and posts[0].url.path == "/v23.0/7/video_reels"
    assert parse_qs(posts[0].content.decode()) == {"upload_phase": ["finish"], "video_id": ["5"],
                                                   "video_state": ["DRAFT"], "description": ["Hello"]}
    assert result.processing_status.state == "in_progress" and result.details["video_state"] == "DRAFT"


def test_states():
    assert container_status({"status_code": "IN_PROGRESS"}).state == "in_progress"
    assert container_status({"status_code": "FINISHED"}).state == "succeeded"
    assert container_status({"status_code": "FINISHED"}, "published").state == "in_progress"
    failed = container_status({"status_code": "ERROR", "status": "Error: 2207026"})
    assert failed.failed and "Error: 2207026" in failed.reason() and "3 s to 15 min" in failed.reason()
    with pytest.raises(MalformedResponse, match="NEW"):
        container_status({"status_code": "NEW"})
    assert reel_status({"video_status": "ready"}).state == "succeeded"
    assert reel_status({"video_status": "processing", "processing_phase": {"status": "not_started"}}).state == \
        "pending"
    error = reel_status({"video_status": "error", "processing_phase": {"status": "error", "errors": [
        {"code": 1363008, "message": "Video is too short"}]}})
    assert error.failed and "Video is too short" in error.reason()
