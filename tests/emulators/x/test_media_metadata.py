"""Alt text and subtitles on the X emulator: ``/2/media/metadata``, ``/2/media/subtitles``, v1.1 metadata."""

from __future__ import annotations

import json

import httpx
import pytest

from ..support import OAuth1, assert_invalid_request, assert_v11_error, finalize_v2, init_v2, inspect

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
SRT = b"1\n00:00:00,000 --> 00:00:01,000\nhello\n"


def video(client: httpx.Client, category: str = "tweet_video") -> str:
    return finalize_v2(client, b"\0" * 2000, "video/mp4", media_category=category)


def subtitles(client: httpx.Client) -> str:
    return finalize_v2(client, SRT, "text/srt", media_category="subtitles")


def test_alt_text_is_set_replaced_and_inspectable(client, anon):
    photo = finalize_v2(client, PNG)
    metadata = {"alt_text": {"text": "a cat on a mat"}, "allow_download_status": {"allow_download": True}}
    response = client.post("/2/media/metadata", json={"id": photo, "metadata": metadata})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"id": photo, "associated_metadata": metadata}}
    assert response.headers["x-rate-limit-limit"] == "1875"
    assert int(response.headers["x-rate-limit-remaining"]) == 1875 - 4  # INIT, APPEND, FINALIZE, metadata
    assert inspect(anon, photo)["alt_text"] == "a cat on a mat"
    again = client.post("/2/media/metadata", json={"id": photo, "metadata": {"alt_text": {"text": "a dog"}}})
    assert again.json()["data"]["associated_metadata"] == {"alt_text": {"text": "a dog"}}
    assert inspect(anon, photo)["metadata"] == {"alt_text": {"text": "a dog"}}


def test_alt_text_may_be_1000_characters_after_nfc(client, anon):
    photo = finalize_v2(client, PNG)
    decomposed = "e\u0301" * 1000  # 2000 code points, 1000 characters once composed
    assert client.post("/2/media/metadata", json={"id": photo, "metadata": {"alt_text": {"text": decomposed}}}
                       ).status_code == 200  # fmt: skip
    too_long = client.post("/2/media/metadata", json={"id": photo, "metadata": {"alt_text": {"text": "x" * 1001}}})
    assert_invalid_request(too_long, "$.metadata.alt_text.text")


def test_a_video_takes_alt_text_while_it_still_processes(client, clock, anon):
    clip = video(client)
    assert inspect(anon, clip)["processing_state"] == "pending"
    response = client.post("/2/media/metadata", json={"id": clip, "metadata": {"alt_text": {"text": "a clip"}}})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"metadata": {"alt_text": {"text": "x"}}}, "$.id"),
        ({"id": "abc", "metadata": {"alt_text": {"text": "x"}}}, "$.id"),
        ({"id": "1", "metadata": {"alt_txt": {"text": "x"}}}, "$.metadata.alt_txt"),
        ({"id": "1", "metadata": {"alt_text": {"text": "x", "lang": "en"}}}, "$.metadata.alt_text.lang"),
        ({"id": "1", "metadata": {"alt_text": {}}}, "$.metadata.alt_text.text"),
        ({"id": "1", "metadata": {"alt_text": {"text": 7}}}, "$.metadata.alt_text.text"),
    ],
)
def test_metadata_bodies_follow_the_spec(client, body, parameter):
    assert_invalid_request(client.post("/2/media/metadata", json=body), parameter)


def test_metadata_needs_finalized_media_that_is_not_a_subtitle_file(client):
    unknown = client.post("/2/media/metadata", json={"id": "1234567", "metadata": {"alt_text": {"text": "x"}}})
    assert unknown.status_code == 404 and unknown.json()["resource_id"] == "1234567"
    for media_id in (init_v2(client, 10, "image/png"), subtitles(client)):
        response = client.post("/2/media/metadata", json={"id": media_id, "metadata": {"alt_text": {"text": "x"}}})
        assert_invalid_request(response, "id")


def test_subtitle_tracks_attach_replace_by_language_and_delete(client, anon):
    clip, english, english_again, french = video(client), subtitles(client), subtitles(client), subtitles(client)

    def attach(track: str, language: str, name: str) -> httpx.Response:
        return client.post("/2/media/subtitles", json={
            "id": clip, "media_category": "TweetVideo",
            "subtitles": {"id": track, "language_code": language, "display_name": name},
        })  # fmt: skip

    first = attach(english, "EN", "English")
    assert first.status_code == 200, first.text
    assert first.json() == {"data": {"id": clip, "media_category": "TweetVideo", "associated_subtitles": {
        "subtitles": [{"id": english, "language_code": "EN", "display_name": "English"}]}}}  # fmt: skip
    attach(french, "FR", "Français").raise_for_status()
    attach(english_again, "EN", "English (US)").raise_for_status()
    assert sorted(inspect(anon, clip)["subtitles"], key=lambda t: t["language_code"]) == [
        {"media_id": english_again, "language_code": "EN", "display_name": "English (US)"},
        {"media_id": french, "language_code": "FR", "display_name": "Français"},
    ]
    delete = {"id": clip, "media_category": "TweetVideo", "language_code": "FR"}
    gone = client.request("DELETE", "/2/media/subtitles", json=delete)
    assert gone.status_code == 200 and gone.json() == {"data": {"deleted": True}}
    assert client.request("DELETE", "/2/media/subtitles", json=delete).json() == {"data": {"deleted": False}}
    assert [t["language_code"] for t in inspect(anon, clip)["subtitles"]] == ["EN"]
    extra = client.request("DELETE", "/2/media/subtitles", json={**delete, "subtitles": {}})
    assert_invalid_request(extra, "$.subtitles")


def test_subtitles_refusals(client):
    clip, amplify, track, photo = video(client), video(client, "amplify_video"), subtitles(client), finalize_v2(
        client, PNG)

    def attach(**changes: object) -> httpx.Response:
        body: dict[str, object] = {"id": clip, "media_category": "TweetVideo",
                                   "subtitles": {"id": track, "language_code": "EN", "display_name": "English"}}
        body.update(changes)
        return client.post("/2/media/subtitles", json=body)

    assert_invalid_request(attach(media_category="AmplifyVideo"), "media_category")
    assert attach(id=amplify, media_category="AmplifyVideo").status_code == 200
    assert_invalid_request(attach(media_category="Video"), "$.media_category")
    assert_invalid_request(attach(id=photo), "id")
    assert_invalid_request(attach(subtitles={"id": photo, "language_code": "EN", "display_name": "x"}), "subtitles.id")
    assert_invalid_request(attach(subtitles={"id": track, "language_code": "en", "display_name": "x"}),
                           "$.subtitles.language_code")  # fmt: skip
    assert_invalid_request(attach(subtitles={"id": track, "language_code": "EN"}), "$.subtitles.display_name")
    assert_invalid_request(attach(note="x"), "$.note")


def test_v11_alt_text_as_tweepy_sends_it(emulator, client, anon):
    photo = finalize_v2(client, PNG)
    with httpx.Client(base_url=emulator.url, auth=OAuth1(), timeout=30) as signed:
        body = json.dumps({"media_id": photo, "alt_text": {"text": "v1.1 alt"}})
        response = signed.post("/1.1/media/metadata/create.json", content=body,
                               headers={"Content-Type": "application/json; charset=UTF-8"})  # fmt: skip
        assert response.status_code == 200 and response.content == b""
        assert inspect(anon, photo)["alt_text"] == "v1.1 alt"
        assert_v11_error(signed.post("/1.1/media/metadata/create.json", json={"alt_text": {"text": "x"}}), 400, 38)
        assert_v11_error(signed.post("/1.1/media/metadata/create.json", json={"media_id": photo, "alt_text": "x"}),
                         400, 44)  # fmt: skip
        missing = signed.post("/1.1/media/metadata/create.json", json={"media_id": "99", "alt_text": {"text": "x"}})
        assert_v11_error(missing, 404, 324)
        too_long = {"media_id": photo, "alt_text": {"text": "y" * 1001}}
        long = signed.post("/1.1/media/metadata/create.json", json=too_long)
        assert_v11_error(long, 400, 44)
    assert anon.post("/1.1/media/metadata/create.json", json={"media_id": photo}).status_code == 401
    stats = anon.get("/_emulator/stats").json()["routes"]
    assert stats["POST /1.1/media/metadata/create.json"]["statuses"] == {"200": 1, "400": 3, "404": 1, "401": 1}


def test_reset_forgets_alt_text_and_subtitles(client, anon, emulator):
    photo = finalize_v2(client, PNG)
    client.post("/2/media/metadata", json={"id": photo, "metadata": {"alt_text": {"text": "x"}}}).raise_for_status()
    emulator.reset()
    assert anon.get(f"/_emulator/x/media/{photo}").status_code == 404
