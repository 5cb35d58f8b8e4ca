"""What X would refuse in a post, refused before any request, with the field and the fix named."""

import json

import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.session import UploadResult
from airflow_provider_chunkup.protocols.x_posts import (
    PostMedia,
    alt_texts,
    as_language_code,
    build_post,
    max_post_length,
    media_kind,
    post_media,
    same_post,
    subtitle_tracks,
)

IMAGE = PostMedia("101", "image")
VIDEO = PostMedia("201", "video")
GIF = PostMedia("301", "gif")


def refused(match, *args, **kwargs):
    with pytest.raises(ConfigurationError, match=match) as e:
        build_post(*args, **kwargs)
    return str(e.value)


def test_a_post_with_media_and_fields_follows_the_spec():
    body = build_post("launch", [VIDEO], fields={"reply_settings": "following", "made_with_ai": True,
                                                 "media": {"tagged_user_ids": ["42"]}})
    assert body == {"text": "launch", "reply_settings": "following", "made_with_ai": True,
                    "media": {"tagged_user_ids": ["42"], "media_ids": ["201"]}}


def test_text_over_280_weighted_characters_is_refused_and_the_setting_allows_more():
    message = refused("282 characters as X counts them", "日本" * 70 + "語")
    assert "max_post_length" in message
    assert build_post("a" * 280)["text"] == "a" * 280
    refused("281 characters", "a" * 281)
    assert build_post("a" * 1000, max_length=25_000)["text"] == "a" * 1000


def test_an_emoji_family_and_links_count_as_x_counts_them():
    link = "https://example.com/" + "x" * 400
    assert build_post(f"{link} " + "👨\u200d👩\u200d👧" * 100)  # 23 + 1 + 200 <= 280


@pytest.mark.parametrize(("media", "match"), [
    ([IMAGE] * 1 + [PostMedia("102", "image"), PostMedia("103", "image"), PostMedia("104", "image"),
                    PostMedia("105", "image")], "at most 4 media"),
    ([IMAGE, VIDEO], "not mixed"),
    ([VIDEO, PostMedia("202", "video")], "not mixed"),
    ([GIF, IMAGE], "not mixed"),
    ([IMAGE, IMAGE], "appears twice"),
    ([PostMedia("401", "subtitles")], "subtitle file cannot be attached"),
])
def test_media_composition(media, match):
    refused(match, "x", media)


def test_four_images_are_fine():
    body = build_post("", [PostMedia(str(i), "image") for i in range(1, 5)])
    assert body["media"]["media_ids"] == ["1", "2", "3", "4"]


@pytest.mark.parametrize(("fields", "match"), [
    ({"nope": 1}, "no field 'nope'. Allowed there:"),
    ({"reply": {"in_reply_to_tweet_id": "12a"}}, r"reply.in_reply_to_tweet_id: '12a' does not match"),
    ({"quote_tweet_id": "1" * 20}, "quote_tweet_id"),
    ({"reply_settings": "everyone"}, "reply_settings: 'everyone' is not one of"),
    ({"made_with_ai": "yes"}, "made_with_ai: 'yes' is not of type 'boolean'"),
    ({"media": {"title": "t", "colour": "red"}}, "no field 'colour' in media"),
    ({"poll": {"options": ["a"], "duration_minutes": 60}}, "poll.options"),
])
def test_fields_outside_the_spec_are_refused(fields, match):
    refused(match, "text", fields=fields)


def test_text_or_media_is_required_and_poll_excludes_media():
    refused("needs text or media", "  ")
    refused("media and poll", "vote", [IMAGE], fields={"poll": {"options": ["a", "b"], "duration_minutes": 60}})
    refused("media and quote_tweet_id", "look", [IMAGE], fields={"quote_tweet_id": "12"})
    refused("quote_tweet_id and card_uri", "look", fields={"quote_tweet_id": "12", "card_uri": "card://1"})
    refused("as text=", "x", fields={"text": "y"})
    refused("media once", "x", [IMAGE], fields={"media": {"media_ids": ["1"]}})


def test_media_from_results_ids_and_keys():
    result = UploadResult(api="x", media_id="7777", size=1, media_key="7_7777").to_dict()
    srt = UploadResult(api="x", media_id="8", size=1, media_key="3_8", details={"media_category": "subtitles"})
    items = post_media([result, 123, "456", PostMedia("9", "gif"), srt])
    assert [(m.media_id, m.kind) for m in items] == [("7777", "video"), ("123", None), ("456", None), ("9", "gif"),
                                                     ("8", "subtitles")]
    assert post_media(json.dumps([result, "5"])) == post_media([result, "5"])  # XCom rendered as text
    with pytest.raises(ConfigurationError, match="not an X id"):
        post_media(["12.5"])
    with pytest.raises(ConfigurationError, match="uploaded to apivideo"):
        post_media({"api": "apivideo", "media_id": "vi1"})
    assert media_kind(media_category="amplify_video") == "video"
    assert media_kind(media_key="16_1") == "gif"
    assert media_kind(media_type="text/vtt") == "subtitles"


def test_alt_text_forms_and_limits():
    assert alt_texts("a cat", [IMAGE]) == {"101": "a cat"}
    two = [IMAGE, PostMedia("102", "image")]
    assert alt_texts(["one", None], two) == {"101": "one"}
    assert alt_texts({"102": "two"}, two) == {"102": "two"}
    with pytest.raises(ConfigurationError, match="one text but the post has 2 media"):
        alt_texts("x", two)
    with pytest.raises(ConfigurationError, match="1001 characters; X keeps at most 1000"):
        alt_texts("a" * 1001, [IMAGE])
    assert alt_texts("é" * 1000, [IMAGE])
    with pytest.raises(ConfigurationError, match="not in the post"):
        alt_texts({"999": "x"}, two)
    with pytest.raises(ConfigurationError, match="2 entries for 1 media"):
        alt_texts(["a", "b"], [IMAGE])


def test_subtitle_tracks():
    tracks = subtitle_tracks({"media": {"api": "x", "media_id": "55", "media_category": "subtitles"},
                              "language_code": "en", "display_name": "English"})
    assert [(t.media_id, t.language_code, t.display_name) for t in tracks] == [("55", "EN", "English")]
    assert subtitle_tracks([{"media": None, "language_code": "EN", "display_name": "English"}]) == []  # skipped
    with pytest.raises(ConfigurationError, match="two-letter language code"):
        as_language_code("eng")
    with pytest.raises(ConfigurationError, match="is video, not a subtitle file"):
        subtitle_tracks({"media": {"api": "x", "media_id": "5", "media_key": "7_5"}, "language_code": "EN",
                         "display_name": "English"})
    with pytest.raises(ConfigurationError, match="same language"):
        subtitle_tracks([{"media": "1", "language_code": "EN", "display_name": "a"},
                         {"media": "2", "language_code": "en", "display_name": "b"}])
    with pytest.raises(ConfigurationError, match="needs a display_name"):
        subtitle_tracks({"media": "1", "language_code": "EN"})


def test_max_post_length_setting():
    assert max_post_length(None) == 280
    assert max_post_length("25000") == 25000
    for bad in (0, 25001, "many", True):
        with pytest.raises(ConfigurationError, match="max_post_length"):
            max_post_length(bad)


def test_a_found_post_is_the_same_when_media_and_text_without_links_agree():
    body = build_post("Launch day https://example.com/launch", [VIDEO])
    found = {"id": "9", "text": "Launch day https://t.co/abc https://t.co/media",
             "attachments": {"media_keys": ["7_201"]}}
    assert same_post(found, body)
    assert not same_post({**found, "attachments": {"media_keys": ["7_202"]}}, body)
    assert not same_post({**found, "text": "Another day"}, body)
    assert same_post({"id": "1", "text": "plain"}, build_post("plain"))
