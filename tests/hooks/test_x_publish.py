"""Posts, alt text and subtitles through XMediaUploadHook against the emulator (a real HTTP server on loopback).

Everything X would refuse is refused before any request: those tests count the emulator's requests.
"""

from __future__ import annotations

import time

import httpx
import pytest

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    DuplicatePost,
    MediaNotReady,
    ProcessingFailed,
)
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.protocols.checkpoint import MemoryStore
from airflow_provider_chunkup.protocols.chunking import MiB
from airflow_provider_chunkup.protocols.x_posts import build_post, post_media
from airflow_provider_chunkup.protocols.x_publish import PostRecord

SRT = b"1\n00:00:00,000 --> 00:00:01,000\nHello\n"


def stats(emulator) -> dict:
    return httpx.get(f"{emulator.url}/_emulator/stats").json()


def requests_to(emulator, route: str) -> int:
    return stats(emulator)["routes"].get(route, {}).get("requests", 0)


def posts(emulator) -> list[dict]:
    return httpx.get(f"{emulator.url}/_emulator/x/posts").json()


def reset_stats(emulator) -> None:
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()


@pytest.fixture
def uploads(media_file, tmp_path):
    """Upload helpers: a video, images, a subtitle file; each returns the upload result's dict."""

    class Uploads:
        def __init__(self) -> None:
            self.hook = XMediaUploadHook()

        def video(self, size: int = 2 * MiB + 3, category: str = "tweet_video") -> dict:
            return self.hook.upload(media_file(size), media_category=category).to_dict()

        def image(self, name: str = "still.png") -> dict:
            return self.hook.upload(media_file(40_000, name), media_type="image/png").to_dict()

        def subtitles(self, name: str = "clip.srt") -> dict:
            path = tmp_path / name
            path.write_bytes(SRT)
            return self.hook.upload(path, media_category="subtitles").to_dict()

    return Uploads()


@pytest.mark.parametrize("auth", ["oauth2", "oauth1"])
def test_upload_then_post_with_alt_text_and_subtitles(auth, x_connection, emulator, uploads, received):
    x_connection(auth=auth)
    video, track = uploads.video(), uploads.subtitles()
    post = XMediaUploadHook().publish(
        "Launch day 🚀 https://example.com/launch", video, alt_text="A rocket lifts off.",
        subtitles={"media": track, "language_code": "en", "display_name": "English"},
        fields={"reply_settings": "following", "made_with_ai": True})
    (stored,) = posts(emulator)
    assert stored["id"] == post.id and post.media_ids == [video["media_id"]] and not post.recovered
    assert stored["text"] == "Launch day 🚀 https://example.com/launch"
    assert stored["media_ids"] == [video["media_id"]]
    assert stored["reply_settings"] == "following" and stored["made_with_ai"] is True
    media = received(video["media_id"])
    assert media["alt_text"] == "A rocket lifts off."
    assert media["subtitles"] == [{"media_id": track["media_id"], "language_code": "EN", "display_name": "English"}]
    assert received(video["media_id"])["sha256"] == video["sha256"]  # byte-exact upload, then post


def test_images_get_their_own_alt_text_and_a_v1_1_connection_uses_its_metadata_endpoint(x_connection, emulator,
                                                                                        uploads, received):
    x_connection(api_version="v1.1")
    images = [uploads.image(f"p{i}.png") for i in range(3)]
    post = XMediaUploadHook().publish("Three stills", images, alt_text=["first", None, "third"])
    assert [received(i["media_id"]).get("alt_text") for i in images] == ["first", None, "third"]
    assert requests_to(emulator, "POST /1.1/media/metadata/create.json") == 2
    assert requests_to(emulator, "POST /2/media/metadata") == 0
    assert requests_to(emulator, "POST /2/tweets") == 1  # posts go to v2 whatever the upload dialect
    assert posts(emulator)[0]["media_ids"] == post.media_ids == [i["media_id"] for i in images]


def test_the_single_steps(x_connection, emulator, uploads, received):
    x_connection()
    video, track = uploads.video(), uploads.subtitles()
    hook = XMediaUploadHook()
    hook.set_alt_text(video["media_id"], "alt")
    hook.attach_subtitles(video["media_id"], track["media_id"], "FR", "Français")
    first = hook.create_post("first", media_ids=[video["media_id"]])
    reply = hook.create_post("a reply", reply={"in_reply_to_tweet_id": first.id}, quote_tweet_id=first.id)
    assert received(video["media_id"])["alt_text"] == "alt"
    assert received(video["media_id"])["subtitles"][0]["language_code"] == "FR"
    stored = {p["id"]: p for p in posts(emulator)}
    assert stored[reply.id]["reply_to"] == first.id and stored[reply.id]["quote_tweet_id"] == first.id


REFUSALS = [
    ({"text": "a" * 281}, "281 characters as X counts them"),
    ({"text": "", "media": []}, "needs text or media"),
    ({"text": "x", "fields": {"colour": "red"}}, "no field 'colour'"),
    ({"text": "x", "fields": {"reply": {"in_reply_to_tweet_id": "abc"}}}, "does not match"),
    ({"text": "x", "fields": {"quote_tweet_id": "12345678901234567890"}}, "quote_tweet_id"),
    ({"text": "x", "fields": {"reply_settings": "everyone"}}, "is not one of"),
    ({"text": "x", "media": ["1", "2", "3", "4", "5"]}, "at most 4 media"),
    ({"text": "x", "media": [{"api": "x", "media_id": "1", "media_key": "7_1"},
                             {"api": "x", "media_id": "2", "media_key": "3_2"}]}, "not mixed"),
    ({"text": "x", "media": ["1"], "alt_text": "a" * 1001}, "X keeps at most 1000"),
    ({"text": "x", "media": ["1"], "fields": {"poll": {"options": ["a", "b"], "duration_minutes": 60}}},
     "media and poll"),
    ({"text": "x", "media": ["1"], "fields": {"quote_tweet_id": "12"}}, "media and quote_tweet_id"),
    ({"text": "x", "media": [{"api": "x", "media_id": "1", "media_key": "3_1"}],
      "subtitles": {"media": "9", "language_code": "EN", "display_name": "English"}}, "attach to a video"),
    ({"text": "x", "media": ["1"], "subtitles": {"media": "9", "language_code": "english", "display_name": "E"}},
     "two-letter"),
    ({"text": "x", "media": ["1.5"]}, "not an X id"),
]


@pytest.mark.parametrize(("kwargs", "match"), REFUSALS)
def test_what_x_would_refuse_is_refused_before_any_request(kwargs, match, x_connection, emulator):
    x_connection()
    reset_stats(emulator)
    kwargs = dict(kwargs)
    with pytest.raises(ConfigurationError, match=match):
        XMediaUploadHook().publish(kwargs.pop("text"), kwargs.pop("media", None), **kwargs)
    assert stats(emulator)["total_requests"] == 0


def test_a_longer_limit_from_the_connection(x_connection, emulator):
    x_connection(max_post_length=1000)
    emulator.config.x.max_post_length = 1000
    post = XMediaUploadHook().create_post("a" * 900)
    assert posts(emulator)[0]["id"] == post.id


def test_media_still_processing_is_refused_after_one_status(x_connection, emulator, uploads):
    x_connection()
    emulator.config.x.processing_seconds = 3600.0
    video = uploads.video()
    reset_stats(emulator)
    with pytest.raises(MediaNotReady, match="Put a MediaProcessingSensor"):
        XMediaUploadHook().publish("too soon", video, alt_text="alt")
    assert requests_to(emulator, "GET /2/media/upload") == 1
    assert stats(emulator)["total_requests"] == 1  # no alt text, no post
    assert posts(emulator) == []


def test_media_whose_processing_failed_is_refused_with_xs_reason(x_connection, emulator, uploads):
    x_connection()
    video = uploads.video()
    httpx.post(f"{emulator.url}/_emulator/x/media/{video['media_id']}/processing",
               json={"outcome": "failed"}).raise_for_status()
    with pytest.raises(ProcessingFailed, match="Unsupported video format"):
        XMediaUploadHook().publish("broken", video)
    assert posts(emulator) == []


@pytest.mark.parametrize("fault", [{"action": "drop", "when": "after"},
                                   {"action": "error", "status": [503], "when": "after"}])
def test_an_answer_lost_after_x_posted_never_makes_a_second_post(fault, x_connection, emulator, uploads):
    x_connection()
    video = uploads.video()
    httpx.post(f"{emulator.url}/_emulator/faults", json={"match": "^POST /2/tweets", **fault}).raise_for_status()
    post = XMediaUploadHook().publish("only once", video)
    (stored,) = posts(emulator)
    assert post.recovered and post.id == stored["id"] and post.media_ids == [video["media_id"]]
    assert requests_to(emulator, "POST /2/tweets") == 1


def test_a_5xx_before_x_posted_posts_once_after_looking(x_connection, emulator, uploads):
    x_connection()
    video = uploads.video()
    httpx.post(f"{emulator.url}/_emulator/faults",
               json={"match": "^POST /2/tweets", "action": "error", "status": [502], "times": 2}).raise_for_status()
    post = XMediaUploadHook().publish("third time lucky", video)
    assert not post.recovered and [p["id"] for p in posts(emulator)] == [post.id]
    assert requests_to(emulator, "POST /2/tweets") == 3


def test_a_record_store_returns_the_earlier_tries_post_without_a_request(x_connection, emulator, uploads):
    x_connection()
    video = uploads.video()
    store = MemoryStore()
    first = XMediaUploadHook().publish("kept", video, record_store=store)
    reset_stats(emulator)
    again = XMediaUploadHook().publish("kept", video, record_store=store)
    assert again == first and stats(emulator)["total_requests"] == 0
    assert len(posts(emulator)) == 1


def test_a_mark_without_a_post_looks_the_post_up_before_posting(x_connection, emulator, uploads):
    """The earlier try was killed after X stored the post, before its answer arrived."""
    x_connection()
    video = uploads.video()
    store = MemoryStore()
    hook = XMediaUploadHook()
    made = hook.create_post("killed in flight", media_ids=[video["media_id"]])
    PostRecord(store, build_post("killed in flight", post_media(video))).save_attempt(time.time() - 5)
    post = XMediaUploadHook().publish("killed in flight", video, record_store=store)
    assert post.recovered and post.id == made.id and len(posts(emulator)) == 1


def test_duplicate_text_of_another_post_fails_with_the_fix(x_connection, emulator, uploads):
    x_connection()
    hook = XMediaUploadHook()
    hook.create_post("same words")
    video = uploads.video()
    with pytest.raises(DuplicatePost, match="Make the text differ"):
        hook.publish("same words", video)
    assert len(posts(emulator)) == 1


def test_a_token_without_tweet_write_gets_the_scope_hint(x_connection, set_connection, emulator):
    set_connection("chunkup_x_default", conn_type="chunkup_x", host=emulator.url,
                   password="chunkup-emulator-no-tweet-write")
    with pytest.raises(AuthenticationFailed, match=r"tweet\.write, tweet\.read and users\.read"):
        XMediaUploadHook().create_post("no scope")
    assert posts(emulator) == []
