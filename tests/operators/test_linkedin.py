"""LinkedInPostOperator against the emulator: upload, AVAILABLE, then one post; retries, other APIs, too early."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_chunkup.hooks.linkedin import LinkedInHook
from airflow_provider_chunkup.operators.linkedin import LinkedInPostOperator
from airflow_provider_chunkup.operators.resume import UploadFailedForGood
from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
from airflow_provider_chunkup.protocols.checkpoint import MemoryStore

TOKEN = "linkedin-token"
PERSON = "urn:li:person:chunkup"
SIZE = 80_000  # LinkedIn takes 75 KB and up


@pytest.fixture
def linkedin_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_linkedin connection to the emulator (its default token and member owner)."""

    def define(conn_id: str = "chunkup_linkedin_default", **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_linkedin", host=emulator.url, password=TOKEN,
                              extra={"owner": PERSON, **extra})

    return define


def posts(emulator) -> list[dict]:
    return httpx.get(f"{emulator.url}/_emulator/linkedin/posts").json()


def post_requests(emulator) -> int:
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    return sum(v["requests"] for k, v in routes.items() if k.startswith("POST /rest/posts"))


@pytest.fixture
def video(linkedin_connection, media_file, emulator) -> dict:
    """A video uploaded with ChunkedUploadOperator, AVAILABLE at once."""
    linkedin_connection()
    emulator.config.linkedin.processing_secs = 0
    upload = ChunkedUploadOperator(task_id="upload", source=str(media_file(SIZE)), conn_id="chunkup_linkedin_default")
    return upload.execute({"task_state_store": MemoryStore()})


def test_posts_the_uploaded_video_with_escaped_commentary(video, emulator):
    text = "Launch (v2) #1 _today_ @team: 100% <fun> ~ [x] {y} a|b \\o/ *yes*"
    out = LinkedInPostOperator(task_id="post", video=video, commentary=text, title="Launch", feed=False
                               ).execute({"task_state_store": MemoryStore()})
    (stored,) = posts(emulator)
    assert out["post_urn"] == stored["urn"] and out["post_urn"].startswith("urn:li:share:")
    assert out["url"] == f"{emulator.url}/_emulator/linkedin/posts/{stored['id']}"
    assert out["video_urn"] == video["media_id"] == stored["media"] and out["author"] == PERSON == stored["author"]
    assert stored["text"] == text and not stored["truncated"]  # LinkedIn shows it whole, as written
    assert stored["commentary"] == out["commentary"] != text
    assert (stored["title"], stored["feedDistribution"], stored["visibility"]) == ("Launch", "NONE", "PUBLIC")
    assert httpx.get(out["url"]).json()["urn"] == out["post_urn"]
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["linkedin_posts"] == 1


def test_a_retried_post_task_returns_the_stored_post_without_posting_again(video, emulator):
    store = MemoryStore()
    first = LinkedInPostOperator(task_id="post", video=video, commentary="Once").execute({"task_state_store": store})
    again = LinkedInPostOperator(task_id="post", video=video, commentary="Once").execute({"task_state_store": store})
    assert again == first and post_requests(emulator) == 1 and len(posts(emulator)) == 1
    other = LinkedInPostOperator(task_id="post", video=video, commentary="Changed").execute({"task_state_store": store})
    assert other["post_urn"] != first["post_urn"] and post_requests(emulator) == 2  # another post, sent


def fault(emulator, **rule: Any) -> None:
    httpx.post(f"{emulator.url}/_emulator/faults", json={"times": 1, **rule}).raise_for_status()


def finder_requests(emulator) -> int:
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    return sum(v["requests"] for k, v in routes.items() if k.startswith("GET /rest/posts"))


def test_a_retry_finds_the_post_whose_answer_was_lost_instead_of_posting_again(linkedin_connection, video,
                                                                               emulator, capsys):
    linkedin_connection(retry_max_attempts="1")
    fault(emulator, match="^POST /rest/posts", action="drop", when="after")  # LinkedIn posts; the answer is lost
    fault(emulator, match="^GET /rest/posts", status=503)  # and the first try cannot look for it either
    store = MemoryStore()
    with pytest.raises(Exception) as lost:  # the network failure, whichever class says it
        LinkedInPostOperator(task_id="post", video=video, commentary="Once").execute({"task_state_store": store})
    assert not isinstance(lost.value, UploadFailedForGood)  # Airflow retries it
    (made,) = posts(emulator)
    assert "post" not in store.get("chunkup.linkedin_post")  # only the attempt's time: the answer never came
    again = LinkedInPostOperator(task_id="post", video=video, commentary="Once").execute({"task_state_store": store})
    assert again["post_urn"] == made["urn"] and again["url"].endswith(made["id"])
    assert len(posts(emulator)) == 1 and post_requests(emulator) == 1
    assert f"Found post {made['urn']}, made by an earlier attempt whose answer was lost" in capsys.readouterr().out
    third = LinkedInPostOperator(task_id="post", video=video, commentary="Once").execute({"task_state_store": store})
    assert third == again and finder_requests(emulator) == 2  # stored now: no lookup, no post


def test_a_lost_answer_within_a_try_is_found_before_the_post_is_sent_again(video, emulator):
    fault(emulator, match="^POST /rest/posts", action="drop", when="after")
    store = MemoryStore()
    out = LinkedInPostOperator(task_id="post", video=video, commentary="Once").execute({"task_state_store": store})
    (made,) = posts(emulator)
    assert out["post_urn"] == made["urn"] and post_requests(emulator) == 1 and finder_requests(emulator) == 1


def test_a_retry_after_an_attempt_that_made_no_post_posts_once(linkedin_connection, video, emulator):
    linkedin_connection(retry_max_attempts="1")
    fault(emulator, match="^POST /rest/posts", action="drop", when="before")  # dropped before LinkedIn posts
    store = MemoryStore()
    with pytest.raises(Exception) as lost:
        LinkedInPostOperator(task_id="post", video=video, commentary="Once").execute({"task_state_store": store})
    assert not isinstance(lost.value, UploadFailedForGood)
    assert posts(emulator) == [] and "attempt_at" in store.get("chunkup.linkedin_post")
    out = LinkedInPostOperator(task_id="post", video=video, commentary="Once").execute({"task_state_store": store})
    (made,) = posts(emulator)
    assert out["post_urn"] == made["urn"] and store.get("chunkup.linkedin_post")["post"] == out
    assert post_requests(emulator) == 2  # the dropped one, then the post


def test_raw_little_text_goes_as_written(video, emulator):
    text = "Hello @[Chunkup](urn:li:person:chunkup) {hashtag|#|video}"
    LinkedInPostOperator(task_id="post", video=video, commentary=text, raw_commentary=True).execute({})
    (stored,) = posts(emulator)
    assert stored["commentary"] == text and stored["text"] == "Hello Chunkup #video"


def test_another_apis_result_is_refused_before_any_request(linkedin_connection, emulator):
    linkedin_connection()
    with pytest.raises(UploadFailedForGood, match="vimeo upload, not a LinkedIn one"):
        LinkedInPostOperator(task_id="p", video={"api": "vimeo", "media_id": "1"}, commentary="x").execute({})
    assert post_requests(emulator) == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"commentary": "a" * 3001}, "at most 3000"),
    ({"commentary": "(" * 1600}, r"1600 written \+ 1600 backslashes"),
    ({"commentary": "x", "visibility": "EVERYONE"}, "visibility"),
    ({"commentary": "x", "author": "urn:li:company:1"}, "urn:li:person"),
])
def test_bad_input_fails_for_good_before_any_request(video, emulator, kwargs, message):
    with pytest.raises(UploadFailedForGood, match=message):
        LinkedInPostOperator(task_id="p", video=video, **kwargs).execute({})
    assert post_requests(emulator) == 0


def test_a_post_before_available_gives_linkedins_refusal_and_the_sensor_to_add(linkedin_connection, media_file,
                                                                                emulator):
    linkedin_connection()
    emulator.config.linkedin.processing_secs = 3600
    result = LinkedInHook().upload(str(media_file(SIZE)))
    with pytest.raises(UploadFailedForGood, match=r"HTTP 400: Media urn:li:video:\S+ is PROCESSING, not AVAILABLE"
                                                  r".*MediaProcessingSensor\(api=\"linkedin\"\)"):
        LinkedInPostOperator(task_id="p", video=result.to_dict(), commentary="Too soon").execute({})
    assert posts(emulator) == []


def test_the_connection_comes_from_the_upload_result(linkedin_connection, media_file, emulator):
    linkedin_connection("chunkup_linkedin_brand", owner="urn:li:organization:2414183")
    emulator.config.linkedin.processing_secs = 0
    result = LinkedInHook("chunkup_linkedin_brand").upload(str(media_file(SIZE))).to_dict()
    assert result["conn_id"] == "chunkup_linkedin_brand"
    out = LinkedInPostOperator(task_id="p", video=result, commentary="From the page").execute({})
    assert out["author"] == "urn:li:organization:2414183" == posts(emulator)[0]["author"]


def test_template_fields():
    assert {"video", "commentary", "visibility", "title", "author", "conn_id"} <= set(
        LinkedInPostOperator.template_fields)
