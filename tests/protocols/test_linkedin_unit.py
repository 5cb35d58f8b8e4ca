"""LinkedIn's client on a mock transport: init's parts, what goes to the signed URLs, finalize, status, errors."""

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
from airflow_provider_chunkup.protocols.chunking import MiB, Segment
from airflow_provider_chunkup.protocols.linkedin import (
    DEFAULT_VERSION,
    LOOKUP_COUNT,
    LOOKUP_MARGIN_SECS,
    LOOKUP_PAGES,
    MAX_FILE,
    MIN_FILE,
    LinkedInUpload,
    check_version,
    escape_little,
    little_text,
    post_page,
    video_status,
)
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSpec

BASE = "https://api.linkedin.com"
OWNER = "urn:li:organization:2414183"
URN = "urn:li:video:C5F10AQE"
SIZE = 10 * MiB
FAST = RetryPolicy(max_attempts=2, backoff_initial=0.001, backoff_max=0.002)
SPEC = UploadSpec(total_bytes=SIZE, source="/data/launch.mp4", media_type="video/mp4")


def url(part: int) -> str:
    return f"https://www.linkedin.com/dms-uploads/sp/v2/C5F10AQE/{part}?ca=vector_feedshare&sig=s3cr3t{part}"


def instructions(size: int = SIZE, part: int = 4 * MiB) -> list[dict]:
    return [{"uploadUrl": url(i), "firstByte": first, "lastByte": min(first + part, size) - 1}
            for i, first in enumerate(range(0, size, part))]


def initialized(request: httpx.Request, **value) -> httpx.Response:
    size = json.loads(request.content)["initializeUploadRequest"]["fileSizeBytes"]
    body = {"uploadUrlsExpireAt": int((time.time() + 86400) * 1000), "video": URN,
            "uploadInstructions": instructions(size), "uploadToken": "tok-parts", **value}
    return httpx.Response(200, json={"value": body})


def linkedin(handler, secrets=None, **kwargs) -> LinkedInUpload:
    return LinkedInUpload(api_base=BASE, token="tok-123", owner=OWNER, transport=httpx.MockTransport(handler),
                          retry=FAST, on_secret=(secrets.append if secrets is not None else None), **kwargs)


def never(request):
    raise AssertionError(f"no request may be sent: {request.method} {request.url}")


async def opened(spec: UploadSpec = SPEC):
    async with linkedin(initialized) as li:
        return await li.init(spec)


async def test_init_sends_owner_and_size_with_the_version_headers_and_plans_linkedins_parts():
    seen, secrets = [], []

    def handler(request):
        seen.append(request)
        return initialized(request)

    async with linkedin(handler, secrets) as li:
        session = await li.init(SPEC)
    request = seen[0]
    assert request.method == "POST" and request.url.path == "/rest/videos"
    assert request.url.params["action"] == "initializeUpload"
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["LinkedIn-Version"] == DEFAULT_VERSION
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert json.loads(request.content) == {"initializeUploadRequest": {
        "owner": OWNER, "fileSizeBytes": SIZE, "uploadCaptions": False, "uploadThumbnail": False}}
    assert session.media_id == URN and session.plan_kind == "server_parts"
    assert [(s.offset, s.length) for s in session.plan.segments()] == [(0, 4 * MiB), (4 * MiB, 4 * MiB),
                                                                        (8 * MiB, 2 * MiB)]
    assert session.remote["etags"] == [None, None, None] and session.remote["upload_token"] == "tok-parts"
    # the signed URLs take bytes without a token: masked, and their signatures alone
    assert secrets == [url(0), "s3cr3t0", url(1), "s3cr3t1", url(2), "s3cr3t2"]
    assert session.expires_at is not None and session.expires_at > time.time()


async def test_an_upload_option_owner_overrides_the_connections():
    seen = []

    def handler(request):
        seen.append(json.loads(request.content))
        return initialized(request)

    spec = UploadSpec(total_bytes=SIZE, options={"owner": "urn:li:person:abc"})
    async with linkedin(handler) as li:
        await li.init(spec)
    assert seen[0]["initializeUploadRequest"]["owner"] == "urn:li:person:abc"


async def test_parts_go_to_their_urls_without_token_or_version_and_their_etags_are_kept_by_index():
    session = await opened()
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(201, headers={"ETag": f"etag-{request.url.path.rsplit('/', 1)[-1]}"})

    async with linkedin(handler) as li:
        await li.append(session, session.plan.segment(2), b"z" * (2 * MiB))  # any order: parts are independent
        await li.append(session, session.plan.segment(0), b"a" * (4 * MiB))
    assert [str(r.url) for r in seen] == [url(2), url(0)]
    for request in seen:
        assert request.method == "PUT" and request.headers["Content-Type"] == "application/octet-stream"
        assert not {"Authorization", "LinkedIn-Version", "X-Restli-Protocol-Version"} & set(request.headers)
    assert seen[0].content == b"z" * (2 * MiB) and seen[0].headers["Content-Length"] == str(2 * MiB)
    assert session.remote["etags"] == ["etag-0", None, "etag-2"]


async def test_a_part_answer_without_etag_is_malformed():
    session = await opened()
    async with linkedin(lambda r: httpx.Response(201)) as li:
        with pytest.raises(MalformedResponse, match="without an ETag"):
            await li.append(session, session.plan.segment(0), b"a" * (4 * MiB))
    assert session.remote["etags"] == [None, None, None]


@pytest.mark.parametrize("status", [403, 404])
async def test_an_expired_or_unknown_signed_url_means_a_new_upload(status):
    session = await opened()
    answer = httpx.Response(status, json={"message": "The upload URL expired", "status": status})
    async with linkedin(lambda r: answer) as li:
        with pytest.raises(UploadExpired, match="restart_expired"):
            await li.append(session, session.plan.segment(0), b"a" * (4 * MiB))


async def test_past_upload_urls_expire_at_no_part_is_sent():
    session = await opened()
    session.expires_at = time.time() - 1
    async with linkedin(never) as li:
        with pytest.raises(UploadExpired, match="uploadUrlsExpireAt"):
            await li.append(session, session.plan.segment(0), b"a" * (4 * MiB))


async def test_finalize_sends_the_etags_in_instruction_order_and_takes_an_empty_200():
    session = await opened()
    session.remote["etags"] = ["e0", "e1", "e2"]
    session.digests["sha256"] = "ab" * 32
    seen = []

    def handler(request):
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(200)  # LinkedIn's answer: no body at all
        return httpx.Response(200, json={"id": URN, "status": "PROCESSING"})

    async with linkedin(handler) as li:
        result = await li.finalize(session)
    post, get = seen
    assert post.url.params["action"] == "finalizeUpload"
    assert json.loads(post.content) == {"finalizeUploadRequest": {"video": URN, "uploadToken": "tok-parts",
                                                                  "uploadedPartIds": ["e0", "e1", "e2"]}}
    assert get.url.raw_path == b"/rest/videos/urn%3Ali%3Avideo%3AC5F10AQE"  # the URN percent-encoded
    assert result.media_id == URN and result.sha256 == "ab" * 32 and result.details["owner"] == OWNER
    assert result.processing_status.state == "in_progress"


async def test_finalize_refuses_before_any_request_while_a_part_has_no_etag():
    session = await opened()
    session.remote["etags"] = ["e0", None, "e2"]
    async with linkedin(never) as li:
        with pytest.raises(ConfigurationError, match=r"ETags of parts \[1\]"):
            await li.finalize(session)


@pytest.mark.parametrize(("state", "ok"), [("PROCESSING", True), ("WAITING_UPLOAD", False)])
async def test_a_finalize_retried_after_a_lost_answer(state, ok):
    """LinkedIn refuses a second finalize (400): the video's status says whether the first one went through."""
    session = await opened()
    session.remote["etags"] = ["e0", "e1", "e2"]

    def handler(request):
        if request.method == "POST":
            return httpx.Response(400, json={"message": f"{URN} is already finalized.", "status": 400})
        return httpx.Response(200, json={"id": URN, "status": state})

    async with linkedin(handler) as li:
        if ok:
            assert (await li.finalize(session)).processing_status.state == "in_progress"
        else:
            with pytest.raises(RemoteRejected, match="already finalized"):
                await li.finalize(session)


@pytest.mark.parametrize(("video", "state"), [
    ({"status": "WAITING_UPLOAD"}, "in_progress"),
    ({"status": "PROCESSING"}, "in_progress"),
    ({"status": "AVAILABLE"}, "succeeded"),
    ({"status": "PROCESSING_FAILED"}, "failed"),
])
def test_states_in_linkedins_words(video, state):
    assert video_status(video).state == state


def test_a_failure_reason_is_kept_verbatim():
    status = video_status({"status": "PROCESSING_FAILED", "processingFailureReason": "Video duration too short"})
    assert status.failed and status.reason() == "status PROCESSING_FAILED: Video duration too short"
    assert "3 seconds to 30 minutes" in video_status({"status": "PROCESSING_FAILED"}).reason()


def test_an_unknown_state_is_not_guessed():
    with pytest.raises(MalformedResponse, match="'DELETED'"):
        video_status({"status": "DELETED"})


async def test_status_wants_a_video_urn_and_an_until_it_knows():
    async with linkedin(never) as li:
        with pytest.raises(ConfigurationError, match="urn:li:video"):
            await li.status("C5F10AQE")
        with pytest.raises(ConfigurationError, match="AVAILABLE"):
            await li.status(URN, until="published")


@pytest.mark.parametrize(("spec", "message"), [
    (UploadSpec(total_bytes=MIN_FILE - 1), "75 KB to 500 MB"),
    (UploadSpec(total_bytes=MAX_FILE + 1), "75 KB to 500 MB"),
    (UploadSpec(total_bytes=SIZE, media_type="video/quicktime"), "MP4"),
    (UploadSpec(total_bytes=SIZE, options={"commentary": "hi"}), "Posts API"),
    (UploadSpec(total_bytes=SIZE, options={"owner": "urn:li:company:1"}), "urn:li:person"),
])
async def test_bad_input_is_refused_before_any_request(spec, message):
    async with linkedin(never) as li:
        with pytest.raises(ConfigurationError, match=message):
            await li.init(spec)


async def test_no_owner_anywhere_is_refused_before_any_request():
    async with LinkedInUpload(api_base=BASE, token="t", transport=httpx.MockTransport(never)) as li:
        with pytest.raises(ConfigurationError, match="needs an owner"):
            await li.init(SPEC)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"token": ""}, "access token"),
    ({"token": "t", "owner": "urn:li:video:1"}, "urn:li:organization"),
    ({"token": "t", "version": "2024-11"}, "YYYYMM"),
    ({"token": "t", "version": "202413"}, "YYYYMM"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        LinkedInUpload(api_base=BASE, **kwargs)


def test_a_version_still_to_come_is_refused():
    now = time.mktime((2026, 6, 15, 0, 0, 0, 0, 0, 0))
    assert check_version("202606", now) == "202606" and check_version("202411.01", now) == "202411.01"
    with pytest.raises(ConfigurationError, match="still to come"):
        check_version("202607", now)


async def test_parts_larger_than_max_chunk_size_are_refused_before_any_put():
    async with linkedin(initialized, max_part_bytes=2 * MiB) as li:
        with pytest.raises(ConfigurationError, match="raise max_chunk_size"):
            await li.init(SPEC)


@pytest.mark.parametrize("value", [
    {"video": URN, "uploadInstructions": []},
    {"video": "urn:li:image:1", "uploadInstructions": instructions()},
    {"video": URN, "uploadInstructions": [{"uploadUrl": url(0), "firstByte": 0}]},
    {"video": URN, "uploadInstructions": instructions()[:2]},  # parts that do not cover the file
])
async def test_init_answers_that_are_not_linkedins_are_malformed(value):
    answer = httpx.Response(200, json={"value": value})
    async with linkedin(lambda r: answer) as li:
        with pytest.raises(MalformedResponse, match="initializeUpload"):
            await li.init(SPEC)


@pytest.mark.parametrize(("status", "body", "error", "message"), [
    (401, {"message": "Invalid access token", "status": 401, "code": "INVALID_ACCESS_TOKEN"}, AuthenticationFailed,
     r"401: Invalid access token \(INVALID_ACCESS_TOKEN\)\. Check the access token"),
    (403, {"message": "Not enough permissions to access: partnerApiVideos.CREATE", "status": 403},
     AuthenticationFailed, r"Not enough permissions.*w_organization_social.*ADMINISTRATOR"),
    (426, {"message": "Requested version 202301 is not active", "status": 426, "code": "NONEXISTENT_VERSION"},
     RemoteRejected, r"not active.*linkedin_version"),
    (400, {"message": "A version must be present.", "status": 400, "code": "VERSION_MISSING"}, RemoteRejected,
     r"VERSION_MISSING.*linkedin_version"),
    (429, {"message": "Resource level throttle APPLICATION DAY limit", "status": 429}, RateLimited,
     r"throttle.*day's window"),
])
async def test_errors_in_words(status, body, error, message):
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(status, json=body)

    async with linkedin(handler) as li:
        with pytest.raises(error, match=message):
            await li.init(SPEC)
    assert len(seen) == (FAST.max_attempts if status == 429 else 1)  # only the throttle is retried


async def test_a_part_is_retried_whole_after_a_5xx():
    session = await opened()
    bodies = []

    def handler(request):
        bodies.append(request.content)
        if len(bodies) == 1:
            return httpx.Response(503, text="upstream")
        return httpx.Response(201, headers={"ETag": "e1"})

    async with linkedin(handler) as li:
        await li.append(session, session.plan.segment(1), b"b" * (4 * MiB))
    assert bodies == [b"b" * (4 * MiB)] * 2 and session.remote["etags"][1] == "e1"


async def test_a_part_without_a_url_is_refused():
    session = await opened()
    session.remote["urls"] = []
    async with linkedin(never) as li:
        with pytest.raises(ConfigurationError, match="no upload URL for part 0"):
            await li.append(session, Segment(0, 0, 4 * MiB), b"a" * (4 * MiB))


@pytest.mark.parametrize(("spec", "message"), [
    (UploadSpec(total_bytes=0), r"empty \(0 bytes\); LinkedIn cannot store an empty upload"),
    (UploadSpec(total_bytes=SIZE, chunk_size=0), r"chunk_size=0 is outside LinkedIn's bounds"),
    (UploadSpec(total_bytes=SIZE, chunk_size=64 * MiB + 1), r"chunk_size=67108865 is outside LinkedIn's bounds"),
])
async def test_what_every_api_refuses_linkedin_refuses_in_the_same_words(spec, message):
    async with linkedin(never) as li:
        with pytest.raises(ConfigurationError, match=message):
            await li.init(spec)


async def test_a_chunk_size_within_bounds_gives_way_to_linkedins_parts():
    async with linkedin(initialized) as li:
        session = await li.init(UploadSpec(total_bytes=SIZE, chunk_size=MiB))
    assert [s.length for s in session.plan.segments()] == [4 * MiB, 4 * MiB, 2 * MiB]


async def test_a_resumed_task_masks_every_part_url_it_read_from_the_checkpoint():
    session = await opened()
    secrets = []
    answer = httpx.Response(201, headers={"ETag": "e"})
    async with linkedin(lambda r: answer, secrets) as li:  # another process: nothing masked there yet
        await li.append(session, session.plan.segment(1), b"b" * (4 * MiB))
        await li.append(session, session.plan.segment(2), b"c" * (2 * MiB))
    assert secrets == [url(0), "s3cr3t0", url(1), "s3cr3t1", url(2), "s3cr3t2"]  # all of them, once


# -- the Posts API ----------------------------------------------------------------------------------

POST = "urn:li:share:7300000000000000001"


def created(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, headers={"x-restli-id": POST})


async def test_create_post_sends_linkedins_body_and_returns_the_urn_from_x_restli_id():
    seen = []

    def handler(request):
        seen.append(request)
        return created(request)

    async with linkedin(handler) as li:
        urn = await li.create_post(URN, commentary="Launch (v2) #1 @team", title="Launch", feed=False)
    assert urn == POST
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/rest/posts"
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["LinkedIn-Version"] == DEFAULT_VERSION
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert json.loads(request.content) == {
        "author": OWNER, "commentary": r"Launch \(v2\) \#1 \@team", "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "NONE", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "content": {"media": {"id": URN, "title": "Launch"}}, "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False}


def test_every_reserved_character_is_escaped_and_raw_little_text_is_kept():
    assert escape_little("\\|{}@[]()<>#*_~ plain") == "".join("\\" + c for c in "\\|{}@[]()<>#*_~") + " plain"
    assert little_text("@[Acme](urn:li:organization:1) {hashtag|#|go}", raw=True) == (
        "@[Acme](urn:li:organization:1) {hashtag|#|go}")
    assert little_text("a_b") == r"a\_b"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"commentary": "a" * 3001}, "at most 3000 characters of commentary; this one is 3001. Shorten it by 1"),
    ({"commentary": "#" * 1501}, r"3002 \(1501 written \+ 1501 backslashes escaping reserved characters\)"),
    ({"commentary": "x\\", "raw_commentary": True}, "lone backslash"),
    ({"commentary": None}, "commentary is text"),
    ({"commentary": "x", "visibility": "public"}, "PUBLIC, CONNECTIONS, LOGGED_IN, CONTAINER"),
    ({"commentary": "x", "author": "urn:li:company:1"}, "urn:li:person:<id> or urn:li:organization:<id>"),
    ({"commentary": "x", "title": 5}, "title is text"),
])
async def test_create_post_refuses_what_linkedin_would_before_any_request(kwargs, message):
    async with linkedin(never) as li:
        with pytest.raises(ConfigurationError, match=message):
            await li.create_post(URN, **kwargs)


@pytest.mark.parametrize("video", ["C5F10AQE", "urn:li:image:C5F10AQE", "urn:li:video:", ""])
async def test_create_post_wants_a_video_urn(video):
    async with linkedin(never) as li:
        with pytest.raises(ConfigurationError, match="urn:li:video"):
            await li.create_post(video, commentary="x")


async def test_exactly_3000_characters_after_escaping_pass_and_an_author_overrides_the_owner():
    seen = []
    async with linkedin(lambda r: seen.append(json.loads(r.content)) or created(r)) as li:
        await li.create_post(URN, commentary="a" * 2996 + "()", author="urn:li:person:abc", visibility="CONNECTIONS")
    assert len(seen[0]["commentary"]) == 3000 and seen[0]["author"] == "urn:li:person:abc"
    assert seen[0]["visibility"] == "CONNECTIONS" and seen[0]["distribution"]["feedDistribution"] == "MAIN_FEED"


async def test_a_post_needs_an_author():
    async with LinkedInUpload(api_base=BASE, token="t", transport=httpx.MockTransport(never)) as li:
        with pytest.raises(ConfigurationError, match="needs an author"):
            await li.create_post(URN, commentary="x")


async def test_a_video_not_available_yet_names_the_sensor():
    answer = httpx.Response(400, json={"message": f"Media {URN} is PROCESSING, not AVAILABLE", "status": 400})
    async with linkedin(lambda r: answer) as li:
        with pytest.raises(RemoteRejected, match=r"HTTP 400: Media .* not AVAILABLE.*MediaProcessingSensor"):
            await li.create_post(URN, commentary="x")


async def test_a_refused_author_says_so():
    answer = httpx.Response(403, json={"message": "Not enough permissions to access: partnerApiPostsExternal",
                                       "status": 403})
    async with linkedin(lambda r: answer) as li:
        with pytest.raises(AuthenticationFailed, match="HTTP 403: Not enough permissions"):
            await li.create_post(URN, commentary="x")


@pytest.mark.parametrize("headers", [{}, {"x-restli-id": "7300"}, {"x-restli-id": "urn:li:video:1"}])
async def test_an_answer_without_a_post_urn_is_malformed(headers):
    async with linkedin(lambda r: httpx.Response(201, headers=headers)) as li:
        with pytest.raises(MalformedResponse, match="x-restli-id"):
            await li.create_post(URN, commentary="x")


def test_post_page_on_linkedin_and_on_the_emulator():
    assert post_page(POST) == f"https://www.linkedin.com/feed/update/{POST}"
    assert post_page(POST, "http://127.0.0.1:8080/") == "http://127.0.0.1:8080/_emulator/linkedin/posts/7300000000000000001"


# -- finding a post an earlier attempt made (its answer was lost) -----------------------------------

OTHER = "urn:li:video:OTHER"


def share(n: int, video: str = URN, at: float | None = None) -> dict:
    """A post as LinkedIn's finder reads it back."""
    ms = int((time.time() if at is None else at) * 1000)
    return {"id": f"urn:li:share:73000000000000000{n:02d}", "author": OWNER, "commentary": "x", "visibility": "PUBLIC",
            "content": {"media": {"id": video, "title": "Launch"}}, "lifecycleState": "PUBLISHED",
            "createdAt": ms, "lastModifiedAt": ms}


def finder(pages: list[list[dict]], seen: list[httpx.Request]):
    """Answers the finder with ``pages`` (by ``start``), records every request."""

    def handler(request):
        seen.append(request)
        assert request.method == "GET" and request.url.path == "/rest/posts"
        start = int(request.url.params["start"])
        page = pages[start // LOOKUP_COUNT] if start // LOOKUP_COUNT < len(pages) else []
        return httpx.Response(200, json={"elements": page, "paging": {"start": start, "count": LOOKUP_COUNT,
                                                                      "links": []}})

    return handler


async def test_find_post_asks_the_authors_finder_and_answers_the_newest_post_with_the_video():
    seen = []
    async with linkedin(finder([[share(3, OTHER), share(2), share(1)]], seen)) as li:
        assert await li.find_post(OWNER, URN, since=time.time() - 60) == share(2)["id"]
    (request,) = seen
    assert request.url.query.decode() == (f"author=urn%3Ali%3Aorganization%3A2414183&q=author&count={LOOKUP_COUNT}"
                                          "&start=0&sortBy=CREATED")
    assert request.headers["X-RestLi-Method"] == "FINDER" and request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["LinkedIn-Version"] == DEFAULT_VERSION
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"


async def test_find_post_stops_at_posts_older_than_the_attempt_less_the_clock_slack():
    seen = []
    now = time.time()
    old = share(1, at=now - 3600)
    slack = share(2, at=now - LOOKUP_MARGIN_SECS + 30)  # "before" the attempt by a clock that runs ahead
    async with linkedin(finder([[share(3, OTHER), old] + [share(4, OTHER)] * (LOOKUP_COUNT - 2)], seen)) as li:
        assert await li.find_post(OWNER, URN, since=now) is None
    async with linkedin(finder([[slack]], seen)) as li:
        assert await li.find_post(OWNER, URN, since=now) == slack["id"]
    assert len(seen) == 2  # one request each: the older post ended the first search
    async with linkedin(finder([[old]], seen)) as li:
        assert await li.find_post(OWNER, URN, since=None) == old["id"]  # no time: any post of the author's


async def test_find_post_reads_further_pages_but_a_bounded_number():
    seen = []
    full = [share(5, OTHER)] * LOOKUP_COUNT
    async with linkedin(finder([full, [share(4, OTHER), share(3)]], seen)) as li:
        assert await li.find_post(OWNER, URN, since=None) == share(3)["id"]
    assert [r.url.params["start"] for r in seen] == ["0", str(LOOKUP_COUNT)]
    seen.clear()
    async with linkedin(finder([full] * (LOOKUP_PAGES + 5), seen)) as li:
        assert await li.find_post(OWNER, URN, since=None) is None
    assert len(seen) == LOOKUP_PAGES
    seen.clear()
    async with linkedin(finder([], seen)) as li:
        assert await li.find_post(OWNER, URN, since=None) is None
    assert len(seen) == 1  # an empty page is the end


async def test_find_post_without_read_permission_says_it_does_not_post_again():
    answer = httpx.Response(403, json={"message": "Not enough permissions to access: partnerApiPostsExternal.FINDER",
                                       "status": 403})
    async with linkedin(lambda r: answer) as li:
        with pytest.raises(AuthenticationFailed, match=r"HTTP 403: Not enough .*FINDER\. The token may not read "
                                                       r"the author's posts: .*r_member_social .*not post again"):
            await li.find_post(OWNER, URN, since=None)


async def test_find_post_wants_a_list_of_elements():
    async with linkedin(lambda r: httpx.Response(200, json={"paging": {}})) as li:
        with pytest.raises(MalformedResponse, match="elements"):
            await li.find_post(OWNER, URN, since=None)


def lost_then(created_on_lost: bool, seen: list[httpx.Request], failure=None):
    """The first POST fails without an answer (LinkedIn made the post, or not); later requests answer."""
    made: list[dict] = []

    def handler(request):
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"elements": made[::-1], "paging": {"start": 0, "count": 50, "links": []}})
        posts = sum(r.method == "POST" for r in seen)
        if posts == 1:
            if created_on_lost:
                made.append(share(1))
            if failure is not None:
                return failure
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        made.append(share(posts))
        return httpx.Response(201, headers={"x-restli-id": share(posts)["id"]})

    return handler


async def test_a_post_whose_answer_was_lost_is_found_not_sent_again():
    seen = []
    async with linkedin(lost_then(True, seen)) as li:
        assert await li.create_post(URN, commentary="x") == share(1)["id"]
    assert [r.method for r in seen] == ["POST", "GET"]


@pytest.mark.parametrize("failure", [None, httpx.Response(503, json={"message": "down", "status": 503})])
async def test_a_post_lost_before_linkedin_made_it_is_sent_again(failure):
    seen = []
    async with linkedin(lost_then(False, seen, failure)) as li:
        assert await li.create_post(URN, commentary="x") == share(2)["id"]
    assert [r.method for r in seen] == ["POST", "GET", "POST"]


async def test_a_throttled_post_is_retried_without_a_lookup():
    seen = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "throttle", "status": 429}),
                    created(None)])
    async with linkedin(lambda r: seen.append(r) or next(answers)) as li:
        assert await li.create_post(URN, commentary="x") == POST
    assert [r.method for r in seen] == ["POST", "POST"]


async def test_a_post_lost_on_every_attempt_fails_after_the_policy_and_looks_each_time():
    seen = []

    def handler(request):
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"elements": [], "paging": {"start": 0, "count": 50, "links": []}})
        raise httpx.ReadError("connection reset", request=request)

    async with linkedin(handler) as li:
        with pytest.raises(RetryExhausted, match="ReadError"):
            await li.create_post(URN, commentary="x")
    assert [r.method for r in seen] == ["POST", "GET", "POST", "GET"]  # FAST: two attempts
