"""XCreatePostOperator run directly (no DB) against the emulator; the DAG run is in tests/dags, the kill in
test_x_post_crash.py."""

from __future__ import annotations

import json

import httpx
import pytest

from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.links import POST_URL_ATTRIBUTE, PublishedPostLink
from airflow_provider_chunkup.operators.resume import UploadFailedForGood
from airflow_provider_chunkup.operators.x_post import XCreatePostOperator
from airflow_provider_chunkup.protocols.checkpoint import MemoryStore
from airflow_provider_chunkup.protocols.chunking import MiB

SECRETS = ("chunkup-emulator-token", "chunkup-consumer-secret", "chunkup-access-token-secret")


def posts(emulator) -> list[dict]:
    return httpx.get(f"{emulator.url}/_emulator/x/posts").json()


def post_requests(emulator) -> int:
    return httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"].get("POST /2/tweets", {}).get("requests", 0)


@pytest.fixture
def video(x_connection, media_file) -> dict:
    x_connection()
    return XMediaUploadHook().upload(media_file(MiB + 7), media_category="tweet_video").to_dict()


def test_posts_an_upload_result_and_returns_id_url_and_media(video, emulator):
    op = XCreatePostOperator(task_id="post", text="Out now", media=video, alt_text="A clip.", made_with_ai=False,
                             paid_partnership=True, reply_settings="verified")
    out = op.execute({"task_state_store": MemoryStore()})
    (stored,) = posts(emulator)
    assert out == {"post_id": stored["id"], "url": f"{emulator.url}/_emulator/x/posts/{stored['id']}",
                   "text": "Out now", "media_ids": [video["media_id"]]}
    assert (stored["made_with_ai"], stored["paid_partnership"], stored["reply_settings"]) == (False, True, "verified")
    assert PublishedPostLink().get_link(op, ti_key=None) == out["url"] == getattr(op, POST_URL_ATTRIBUTE)
    text = json.dumps(out)
    assert not any(secret in text for secret in SECRETS)


def test_a_retry_returns_the_earlier_post_and_sends_nothing(video, emulator):
    store = MemoryStore()
    first = XCreatePostOperator(task_id="post", text="Once", media=[video]).execute({"task_state_store": store})
    again = XCreatePostOperator(task_id="post", text="Once", media=[video]).execute({"task_state_store": store})
    assert again == first and post_requests(emulator) == 1 and len(posts(emulator)) == 1


def test_reply_and_quote_take_an_earlier_post_tasks_output(video, emulator):
    first = XCreatePostOperator(task_id="first", text="Thread start", media=video).execute({})
    reply = XCreatePostOperator(task_id="reply", text="And more", reply_to=first, fields={"nullcast": False}
                                ).execute({})
    quote = XCreatePostOperator(task_id="quote", text="Look", quote_tweet_id=first["post_id"]).execute({})
    stored = {p["id"]: p for p in posts(emulator)}
    assert stored[reply["post_id"]]["reply_to"] == stored[quote["post_id"]]["quote_tweet_id"] == first["post_id"]


def test_bad_input_fails_for_good_before_any_request(video, emulator):
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()
    for op in (XCreatePostOperator(task_id="t", text="a" * 300, media=video),
               XCreatePostOperator(task_id="t", text="x", media=video, reply_to="not-a-number"),
               XCreatePostOperator(task_id="t", text="x", media=video, reply_settings="anyone"),
               XCreatePostOperator(task_id="t", text="x", media=video, made_with_ai=True,
                                   fields={"made_with_ai": False})):
        with pytest.raises(UploadFailedForGood, match="a retry of the task cannot fix this"):
            op.execute({})
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["total_requests"] == 0


def test_unprocessed_media_fails_for_good_naming_the_sensor(x_connection, media_file, emulator):
    x_connection()
    emulator.config.x.processing_seconds = 3600.0
    video = XMediaUploadHook().upload(media_file(MiB), media_category="tweet_video").to_dict()
    with pytest.raises(UploadFailedForGood, match="MediaProcessingSensor"):
        XCreatePostOperator(task_id="post", text="Too soon", media=video).execute({})
    assert posts(emulator) == []


def test_the_connection_comes_from_the_upload_result(x_connection, media_file, emulator):
    x_connection("chunkup_x_brand")
    video = XMediaUploadHook("chunkup_x_brand").upload(media_file(MiB), media_category="tweet_video").to_dict()
    assert video["conn_id"] == "chunkup_x_brand"
    out = XCreatePostOperator(task_id="post", text="Brand account", media=video).execute({})
    assert posts(emulator)[0]["id"] == out["post_id"]


def test_template_fields():
    assert {"text", "media", "alt_text", "subtitles", "reply_to", "quote_tweet_id", "reply_settings", "fields",
            "conn_id"} <= set(XCreatePostOperator.template_fields)
