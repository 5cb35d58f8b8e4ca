"""Posting exactly once, on a mock transport: lost answers, 5xx, 429, duplicates, failed lookups.

The emulator tests (tests/hooks/test_x_publish.py) cover the same paths against a real server; these pin
down each decision: when the publisher looks for an earlier post, when it posts again, when it gives up.
"""

import json

import httpx
import pytest

from airflow_provider_chunkup.errors import DuplicatePost, RateLimited, RemoteRejected, RetryExhausted
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.checkpoint import MemoryStore
from airflow_provider_chunkup.protocols.http import ApiClient
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.x import V1_1, XMediaUpload
from airflow_provider_chunkup.protocols.x_posts import PostMedia, build_post
from airflow_provider_chunkup.protocols.x_publish import (
    PostRecord,
    PublishedPost,
    XPublisher,
    isoformat,
    post_error,
)

FAST = RetryPolicy(max_attempts=4, backoff_initial=0.001, backoff_max=0.01, max_elapsed=5)
USER = "2244994945"


class FakeX:
    """Just enough of X: posts, the user's timeline, and scripted failures of POST /2/tweets."""

    def __init__(self, failures=(), lookup_status=200, page_size=100):
        self.posts: list[dict] = []
        self.failures = list(failures)  # per POST: ("store", status) | ("refuse", status) | None
        self.lookup_status = lookup_status
        self.page_size = page_size
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/2/tweets":
            return self._create(json.loads(request.content))
        if request.url.path == "/2/users/me":
            return httpx.Response(200, json={"data": {"id": USER, "username": "u", "name": "U"}})
        if request.url.path == f"/2/users/{USER}/tweets":
            if self.lookup_status != 200:
                return httpx.Response(self.lookup_status, json={"title": "Forbidden", "detail": "Forbidden"})
            return self._timeline(request.url.params)
        if request.url.path in ("/2/media/metadata", "/1.1/media/metadata/create.json", "/2/media/subtitles"):
            return httpx.Response(200, json={"data": {"id": json.loads(request.content).get("id")}})
        return httpx.Response(404, json={"title": "Not Found"})

    def _create(self, body: dict) -> httpx.Response:
        failure = self.failures.pop(0) if self.failures else None
        if any(p["text"] == body["text"] for p in self.posts):
            return httpx.Response(403, json={"detail": "You are not allowed to create a Tweet with duplicate content.",
                                             "type": "about:blank", "title": "Forbidden", "status": 403})
        if failure and failure[0] == "refuse":
            return httpx.Response(failure[1], json={"title": "Service Unavailable"},
                                  headers={"retry-after": "0"} if failure[1] == 429 else {})
        post = {"id": str(1000 + len(self.posts)), "text": body["text"]}
        if body.get("media"):
            post["attachments"] = {"media_keys": [f"7_{i}" for i in body["media"]["media_ids"]]}
        self.posts.insert(0, post)
        if failure and failure[0] == "store":  # X stored it, the answer is lost
            return httpx.Response(failure[1], json={"title": "Internal Error"})
        return httpx.Response(201, json={"data": {"id": post["id"], "text": post["text"]}})

    def _timeline(self, params) -> httpx.Response:
        assert params["start_time"].endswith("Z")
        start = int(params.get("pagination_token", "0"))
        page = self.posts[start:start + self.page_size]
        meta: dict = {"result_count": len(page)}
        if start + self.page_size < len(self.posts):
            meta["next_token"] = str(start + self.page_size)
        return httpx.Response(200, json={"data": page, "meta": meta} if page else {"meta": meta})

    def count(self, call: str) -> int:
        return self.calls.count(call)


def publisher(fake: FakeX, dialect: str = "v2") -> XPublisher:
    transport = httpx.MockTransport(fake)
    upload = XMediaUpload(auth=BearerAuth("t"), dialect=dialect, base_url="http://x.test", retry=FAST,
                          transport=transport)
    client = ApiClient("http://x.test", auth=BearerAuth("t"), retry=FAST, error_factory=post_error,
                       transport=transport)
    return XPublisher(client, upload)


BODY = build_post("Launch day", [PostMedia("201", "video")])


async def test_a_post_is_made_once():
    fake = FakeX()
    async with publisher(fake) as p:
        post = await p.create_post(BODY)
    assert (post.id, post.text, post.media_ids, post.recovered) == ("1000", "Launch day", ["201"], False)
    assert fake.calls == ["POST /2/tweets"]


async def test_an_answer_lost_after_x_stored_the_post_is_found_not_posted_again():
    fake = FakeX(failures=[("store", 503)])
    async with publisher(fake) as p:
        post = await p.create_post(BODY)
    assert post.recovered and post.id == "1000" and post.media_ids == ["201"]
    assert len(fake.posts) == 1
    assert fake.calls == ["POST /2/tweets", "GET /2/users/me", f"GET /2/users/{USER}/tweets"]


async def test_a_5xx_before_x_stored_anything_posts_again_after_looking():
    fake = FakeX(failures=[("refuse", 503), ("refuse", 500)])
    async with publisher(fake) as p:
        post = await p.create_post(BODY)
    assert not post.recovered and len(fake.posts) == 1
    assert fake.count("POST /2/tweets") == 3 and fake.count(f"GET /2/users/{USER}/tweets") == 2
    assert fake.count("GET /2/users/me") == 1  # asked once


async def test_a_429_is_waited_out_without_a_lookup():
    fake = FakeX(failures=[("refuse", 429)])
    async with publisher(fake) as p:
        await p.create_post(BODY)
    assert fake.calls == ["POST /2/tweets", "POST /2/tweets"]


async def test_429_until_the_budget_ends_raises_rate_limited():
    fake = FakeX(failures=[("refuse", 429)] * 4)
    async with publisher(fake) as p:
        with pytest.raises(RateLimited):
            await p.create_post(BODY)
    assert not fake.posts


async def test_5xx_every_time_ends_after_the_policy_attempts_with_nothing_posted():
    fake = FakeX(failures=[("refuse", 502)] * 4)
    async with publisher(fake) as p:
        with pytest.raises(RetryExhausted):
            await p.create_post(BODY)
    assert fake.count("POST /2/tweets") == 4 and not fake.posts


async def test_an_earlier_attempt_is_looked_for_before_posting():
    fake = FakeX()
    fake.posts.append({"id": "77", "text": "Launch day https://t.co/x", "attachments": {"media_keys": ["7_201"]}})
    async with publisher(fake) as p:
        post = await p.create_post(BODY, earlier_attempt_at=1.0e9)
    assert post.id == "77" and post.recovered
    assert "POST /2/tweets" not in fake.calls


async def test_the_lookup_pages_through_recent_posts():
    fake = FakeX(page_size=2)
    fake.posts.extend({"id": str(i), "text": f"other {i}"} for i in range(5))
    fake.posts.append({"id": "77", "text": "Launch day", "attachments": {"media_keys": ["7_201"]}})
    async with publisher(fake) as p:
        post = await p.create_post(BODY, earlier_attempt_at=1.0e9)
    assert post.id == "77" and fake.count(f"GET /2/users/{USER}/tweets") == 3


async def test_duplicate_content_of_someone_elses_post_fails_with_the_fix():
    fake = FakeX()
    fake.posts.append({"id": "5", "text": "Launch day"})  # same text, no media: not this post
    async with publisher(fake) as p:
        with pytest.raises(DuplicatePost) as e:
            await p.create_post(BODY)
    assert "duplicate content" in str(e.value) and "Make the text differ" in str(e.value)
    assert "tweet.write" not in str(e.value)  # not the scope hint


async def test_when_the_lookup_is_forbidden_nothing_is_posted_again():
    fake = FakeX(failures=[("store", 503)], lookup_status=403)
    async with publisher(fake) as p:
        with pytest.raises(RemoteRejected, match=r"tweet\.read and users\.read scopes"):
            await p.create_post(BODY)
    assert fake.count("POST /2/tweets") == 1


async def test_a_400_is_not_retried_nor_looked_up():
    calls = []

    def fake(request):
        calls.append(request)
        return httpx.Response(400, json={
            "errors": [{"parameters": {"text": ["x"]}, "message": "bad text"}], "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"})

    async with publisher(fake) as p:
        with pytest.raises(RemoteRejected, match=r"Invalid Request - One or more parameters.*: bad text"):
            await p.create_post(BODY)
    assert len(calls) == 1


async def test_alt_text_goes_where_the_connection_uploads():
    fake = FakeX()
    async with publisher(fake) as p:
        await p.set_alt_text("201", "a cat")
    async with publisher(fake, V1_1) as p:
        await p.set_alt_text("201", "a cat")
    assert fake.calls == ["POST /2/media/metadata", "POST /1.1/media/metadata/create.json"]


def test_post_record_keeps_the_post_for_its_body_only():
    store = MemoryStore()
    record = PostRecord(store, BODY)
    assert record.post() is None and record.attempt_at() is None
    record.save_attempt(12.5)
    assert record.attempt_at() == 12.5
    record.save_post(PublishedPost("9", "Launch day", ["201"]))
    assert record.post() == PublishedPost("9", "Launch day", ["201"])
    assert PostRecord(store, build_post("Another text")).post() is None
    json.dumps(store)  # the state store takes JSON


def test_isoformat():
    assert isoformat(0) == "1970-01-01T00:00:00Z"
