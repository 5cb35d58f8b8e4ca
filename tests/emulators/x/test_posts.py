"""``POST /2/tweets`` on the X emulator: what X accepts, what it refuses and with which body."""

from __future__ import annotations

import re

import httpx
import pytest

from ..support import (
    NO_TWEET_WRITE,
    X_USER_ID,
    OAuth1,
    assert_x_forbidden,
    assert_x_invalid,
    create_post,
    finalize_v2,
    init_v2,
    stored_posts,
)

TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length see "
    "https://github.com/twitter/twitter-text."
)
MEDIA_INVALID = "Your media IDs are invalid."
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
NOT_DEFINED = "is not defined in the schema and the schema does not allow additional properties"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200


def image(client: httpx.Client) -> str:
    return finalize_v2(client, PNG, "image/png")


def video(client: httpx.Client, **init: str) -> str:
    return finalize_v2(client, b"\0" * 3000, "video/mp4", **init)


def test_a_text_post_answers_201_and_is_stored_as_received(client, anon):
    response = client.post("/2/tweets", json={"text": "hello from chunkup", "reply_settings": "following",
                                              "made_with_ai": True, "nullcast": False})  # fmt: skip
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    post_id = data["id"]
    assert re.fullmatch(r"[0-9]{1,19}", post_id)
    assert data == {
        "id": post_id,
        "text": "hello from chunkup",
        "edit_history_tweet_ids": [post_id],
        "edit_history_post_ids": [post_id],
    }
    assert response.headers["location"].endswith(f"/2/tweets/{post_id}")
    assert int(response.headers["x-rate-limit-limit"]) == 100
    [stored] = stored_posts(anon)
    assert stored["id"] == post_id and stored["text"] == "hello from chunkup"
    assert stored["author_id"] == X_USER_ID
    assert stored["auth_kind"] == "bearer"
    assert stored["reply_settings"] == "following" and stored["made_with_ai"] is True
    assert stored["paid_partnership"] is None and stored["media_ids"] == [] and stored["reply_to"] is None
    assert stored["body"] == {"text": "hello from chunkup", "reply_settings": "following", "made_with_ai": True,
                              "nullcast": False}  # fmt: skip
    assert anon.get(f"/_emulator/x/posts/{post_id}").json() == stored
    assert anon.get("/_emulator/x/posts/1").status_code == 404
    assert anon.get("/_emulator/stats").json()["x_posts"] == 1


def test_an_oauth1_user_posts_with_a_json_body_outside_the_signature(emulator, anon):
    with httpx.Client(base_url=emulator.url, auth=OAuth1(), timeout=30) as signed:
        post_id = create_post(signed, text="signed")["data"]["id"]
        wrong = httpx.post(f"{emulator.url}/2/tweets", json={"text": "x"}, auth=OAuth1(token_secret="wrong"))
    assert wrong.status_code == 401
    assert stored_posts(anon)[0]["id"] == post_id
    assert stored_posts(anon)[0]["auth_kind"] == "oauth1"


def test_no_credentials_is_401_and_a_token_without_tweet_write_is_403_on_posts_only(emulator, client, anon):
    assert anon.post("/2/tweets", json={"text": "x"}).status_code == 401
    with httpx.Client(base_url=emulator.url, headers=NO_TWEET_WRITE, timeout=30) as limited:
        refused = limited.post("/2/tweets", json={"text": "x"})
        assert refused.status_code == 403
        assert refused.json() == {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}
        init_v2(limited, 10, "image/png")  # media.write it has
        assert limited.get("/2/users/me").status_code == 200
    assert stored_posts(anon) == []


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"text": "x", "status": "y"}, "$.status", f"$.status: {NOT_DEFINED}"),
        ({"text": "x", "reply": {"in_reply_to_tweet_id": "1", "x": 1}}, "$.reply.x", f"$.reply.x: {NOT_DEFINED}"),
        ({"media": {"media_ids": ["1"], "alt": "a"}}, "$.media.alt", f"$.media.alt: {NOT_DEFINED}"),
        ({"text": "x", "poll": {"options": ["a", "b"], "duration_minutes": 5, "end": 1}}, "$.poll.end",
         f"$.poll.end: {NOT_DEFINED}"),
        ({"media": {"media_ids": ["1"], "call_to_actions": {"visit_site": {"url": "https://a", "b": 1}}}},
         "$.media.call_to_actions.visit_site.b", f"$.media.call_to_actions.visit_site.b: {NOT_DEFINED}"),
        ({"text": 5}, "$.text", "$.text: integer found, string expected"),
        ({"media": {"media_ids": "1666121026172858379"}}, "$.media.media_ids",
         "$.media.media_ids: string found, array expected"),
        ({"media": {"media_ids": ["12a"]}}, "$.media.media_ids[0]",
         "$.media.media_ids[0]: does not match the regex pattern ^[0-9]{1,19}$"),
        ({"media": {"media_ids": []}}, "$.media.media_ids",
         "$.media.media_ids: there must be a minimum of 1 items in the array"),
        ({"media": {"media_ids": ["1", "2", "3", "4", "5"]}}, "$.media.media_ids",
         "$.media.media_ids: there must be a maximum of 4 items in the array"),
        ({"text": "x", "reply_settings": "everyone"}, "$.reply_settings",
         "$.reply_settings: does not have a value in the enumeration [following, mentionedUsers, subscribers, "
         "verified]"),
        ({"text": "x", "made_with_ai": "yes"}, "$.made_with_ai", "$.made_with_ai: string found, boolean expected"),
        ({"text": "x", "quote_tweet_id": 5}, "$.quote_tweet_id", "$.quote_tweet_id: integer found, string expected"),
        ({"text": "x", "reply": {}}, "$.reply.in_reply_to_tweet_id",
         "$.reply.in_reply_to_tweet_id: is missing but it is required"),
        ({"text": "x", "poll": {"options": ["a"], "duration_minutes": 5}}, "$.poll.options",
         "$.poll.options: there must be a minimum of 2 items in the array"),
        ({"text": "x", "poll": {"options": ["a", "b" * 26], "duration_minutes": 5}}, "$.poll.options[1]",
         "$.poll.options[1]: may only be 25 characters long"),
        ({"text": "x", "poll": {"options": ["a", "b"], "duration_minutes": 10081}}, "$.poll.duration_minutes",
         "$.poll.duration_minutes: must have a maximum value of 10080"),
        ({"text": "x", "poll": {"options": ["a", ""], "duration_minutes": 5}}, "$.poll.options[1]",
         "$.poll.options[1]: must be at least 1 characters long"),
    ],
)
def test_the_schema_is_checked_at_every_level_with_x_validator_messages(client, anon, body, path, message):
    response = client.post("/2/tweets", json=body)
    assert_x_invalid(response, message)
    assert list(response.json()["errors"][0]["parameters"]) == [path]
    assert stored_posts(anon) == []


def test_every_violation_is_listed_and_values_are_json_text(client):
    response = client.post("/2/tweets", json={"text": "x", "foo": {"a": 1}, "media": {"media_ids": "7"}})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"parameters": {"$.foo": ['{"a": 1}']}, "message": f"$.foo: {NOT_DEFINED}"},
        {"parameters": {"$.media.media_ids": ['"7"']}, "message": "$.media.media_ids: string found, array expected"},
    ]


def test_the_body_must_be_a_json_object(client):
    assert_x_invalid(client.post("/2/tweets", data={"text": "x"}),
                     "Requests with bodies must have content-type of application/json.", {})  # fmt: skip
    bad = client.post("/2/tweets", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_x_invalid(bad, "Request body must be a JSON object.")
    assert_x_invalid(client.post("/2/tweets", json=["text"]), "Request body must be a JSON object.")


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "  \n "}])
def test_text_or_media_is_required(client, body):
    assert_x_invalid(client.post("/2/tweets", json=body), "Please include either text or media in your Tweet.")


def test_text_length_is_x_weighted_length(client, emulator):
    create_post(client, text="a" * 280)
    assert_x_invalid(client.post("/2/tweets", json={"text": "b" * 281}), TOO_LONG, {"text": ["b" * 281]})
    create_post(client, text="😀" * 140)  # an emoji weighs 2
    assert_x_invalid(client.post("/2/tweets", json={"text": "😁" * 141}), TOO_LONG)
    create_post(client, text="日" * 140)
    assert_x_invalid(client.post("/2/tweets", json={"text": "本" * 141}), TOO_LONG)
    # A URL weighs 23 however long: 257 + 23 = 280.
    create_post(client, text="c" * 256 + " https://example.com/" + "p" * 300)
    assert_x_invalid(client.post("/2/tweets", json={"text": "d" * 257 + " https://example.com/x"}), TOO_LONG)
    emulator.config.x.max_post_length = 25_000  # X Premium
    create_post(client, text="e" * 25_000)
    assert_x_invalid(client.post("/2/tweets", json={"text": "f" * 25_001}), TOO_LONG)


def test_duplicate_text_is_refused_within_the_window(client, emulator, clock, anon):
    create_post(client, text="same")
    assert_x_forbidden(client.post("/2/tweets", json={"text": "same"}), DUPLICATE)
    create_post(client, text="same ")  # not the same text
    clock.advance(86_400)
    create_post(client, text="same")
    emulator.config.x.duplicate_post_window_secs = 0
    create_post(client, text="same")
    assert [p["text"] for p in stored_posts(anon)] == ["same", "same", "same ", "same"]


def test_up_to_four_images_are_attached_by_id_and_key(client, anon):
    ids = [image(client) for _ in range(4)]
    post_id = create_post(client, text="four", media={"media_ids": ids})["data"]["id"]
    [stored] = stored_posts(anon)
    assert stored["id"] == post_id and stored["media_ids"] == ids
    assert stored["media_keys"] == [f"3_{i}" for i in ids]
    only_media = create_post(client, media={"media_ids": [ids[0]]})["data"]
    assert only_media["text"] == ""


def test_media_ids_x_refuses(client, anon):
    photo, gif = image(client), finalize_v2(client, b"GIF89a" + b"\0" * 100, "image/gif")
    subtitles = finalize_v2(client, b"1\n00:00:00,000 --> 00:00:01,000\nhi\n", "text/srt", media_category="subtitles")
    unfinished = init_v2(client, 10, "image/png")
    expired = image(client)
    assert anon.post(f"/_emulator/x/media/{expired}/expire").status_code == 200
    for ids in ([str(10**18)], [unfinished], [expired], [subtitles], [photo, gif], [photo, photo]):
        response = client.post("/2/tweets", json={"text": "t", "media": {"media_ids": ids}})
        assert_x_invalid(response, MEDIA_INVALID, {"media.media_ids": ids})
    assert stored_posts(anon) == []


def test_a_video_is_refused_until_its_processing_succeeded(client, clock, anon):
    clip = video(client, media_category="tweet_video")
    body = {"text": "clip", "media": {"media_ids": [clip]}}
    assert_x_invalid(client.post("/2/tweets", json=body), MEDIA_INVALID)  # pending
    clock.advance(1.5)
    status = client.get("/2/media/upload", params={"media_id": clip}).json()["data"]["processing_info"]["state"]
    assert status == "in_progress"
    assert_x_invalid(client.post("/2/tweets", json=body), MEDIA_INVALID)
    clock.advance(2)
    post_id = create_post(client, **body)["data"]["id"]
    assert stored_posts(anon)[0]["media_keys"] == [f"7_{clip}"] and stored_posts(anon)[0]["id"] == post_id
    second = video(client, media_category="amplify_video")
    clock.advance(5)
    two = {"text": "two videos", "media": {"media_ids": [clip, second]}}
    assert_x_invalid(client.post("/2/tweets", json=two), MEDIA_INVALID)


def test_a_video_whose_processing_failed_is_refused(client, clock, anon):
    clip = video(client, media_category="tweet_video")
    anon.post(f"/_emulator/x/media/{clip}/processing", json={"outcome": "failed"}).raise_for_status()
    clock.advance(5)
    assert_x_invalid(client.post("/2/tweets", json={"media": {"media_ids": [clip]}}), MEDIA_INVALID)


def test_poll_media_quote_are_mutually_exclusive(client):
    photo = image(client)
    quoted = create_post(client, text="quoted")["data"]["id"]
    message = "You can only provide one of poll or quote_tweet_id or direct_message_deep_link or media or card_uri."
    poll = {"options": ["a", "b"], "duration_minutes": 5}
    response = client.post("/2/tweets", json={"text": "p", "poll": poll, "media": {"media_ids": [photo]}})
    assert_x_invalid(response, message)
    assert set(response.json()["errors"][0]["parameters"]) == {"poll", "media"}
    assert_x_invalid(client.post("/2/tweets", json={"text": "q", "quote_tweet_id": quoted,
                                                    "media": {"media_ids": [photo]}}), message)  # fmt: skip
    create_post(client, text="a poll", poll=poll)


def test_replies_and_quotes_need_a_post_that_exists(client, anon):
    missing = "1234567890123456789"
    assert_x_forbidden(client.post("/2/tweets", json={"text": "r", "reply": {"in_reply_to_tweet_id": missing}}),
                       "You attempted to reply to a Tweet that is deleted or not visible to you.")  # fmt: skip
    assert_x_forbidden(client.post("/2/tweets", json={"text": "q", "quote_tweet_id": missing}),
                       "You attempted to quote a Tweet that is deleted or not visible to you.")  # fmt: skip
    root = create_post(client, text="root")["data"]["id"]
    reply = create_post(client, text="reply", reply={"in_reply_to_tweet_id": root})["data"]["id"]
    quote = create_post(client, text="quote", quote_tweet_id=reply)["data"]["id"]
    by_id = {p["id"]: p for p in stored_posts(anon)}
    assert by_id[reply]["reply_to"] == root and by_id[reply]["conversation_id"] == root
    assert by_id[quote]["quote_tweet_id"] == reply and by_id[quote]["conversation_id"] == quote


def test_posts_count_against_their_own_bucket(client, emulator):
    emulator.config.x.post_rate_limit = 2
    create_post(client, text="one")
    second = client.post("/2/tweets", json={"text": "two"})
    assert second.status_code == 201 and second.headers["x-rate-limit-remaining"] == "0"
    third = client.post("/2/tweets", json={"text": "three"})
    assert third.status_code == 429 and third.headers["x-rate-limit-limit"] == "2"
    assert third.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    upload = client.post("/2/media/upload/initialize", json={"media_type": "image/png", "total_bytes": 10})
    assert upload.status_code == 200 and upload.headers["x-rate-limit-limit"] == "1875"


def test_a_post_whose_answer_was_lost_is_stored(client, anon):
    rule = {"match": "^POST /2/tweets", "action": "error", "status": [503], "when": "after", "times": 1}
    assert anon.post("/_emulator/faults", json=rule).status_code == 201
    lost = client.post("/2/tweets", json={"text": "did it post?"})
    assert lost.status_code == 503
    [stored] = stored_posts(anon)
    assert stored["text"] == "did it post?"
    # The client must find it rather than post again: a second create is a duplicate.
    assert_x_forbidden(client.post("/2/tweets", json={"text": "did it post?"}), DUPLICATE)
    timeline = client.get(f"/2/users/{X_USER_ID}/tweets").json()
    assert [p["id"] for p in timeline["data"]] == [stored["id"]]
    stats = anon.get("/_emulator/stats").json()
    assert stats["routes"]["POST /2/tweets"]["statuses"] == {"503": 1, "403": 1}
    assert stats["x_posts"] == 1 and stats["faults_injected"] == 1


def test_a_fault_before_the_handler_stores_nothing(client, anon):
    rule = {"match": "^POST /2/tweets$", "action": "error", "status": [500], "times": 1}
    anon.post("/_emulator/faults", json=rule).raise_for_status()
    assert client.post("/2/tweets", json={"text": "never"}).status_code == 500
    assert stored_posts(anon) == []
    create_post(client, text="never")


def test_reset_forgets_posts(client, anon, emulator):
    create_post(client, text="gone after reset")
    emulator.reset()
    assert stored_posts(anon) == []
    assert anon.get("/_emulator/stats").json()["x_posts"] == 0


def test_post_settings_are_patchable_and_checked(anon):
    patch = {"x": {"max_post_length": 500, "duplicate_post_window_secs": 60, "post_rate_limit": 7,
                   "read_rate_limit": 9, "user_id": "42", "user_username": "u", "user_name": "U",
                   "no_tweet_write_tokens": ["t"]}}  # fmt: skip
    response = anon.patch("/_emulator/config", json=patch)
    assert response.status_code == 200, response.text
    x = response.json()["x"]
    assert {k: x[k] for k in patch["x"]} == {**patch["x"], "no_tweet_write_tokens": ["t"]}
    for bad in ({"max_post_length": 0}, {"user_id": "abc"}, {"duplicate_post_window_secs": -1},
                {"post_rate_limit": -1}, {"user_name": ""}):  # fmt: skip
        assert anon.patch("/_emulator/config", json={"x": bad}).status_code == 400, bad
