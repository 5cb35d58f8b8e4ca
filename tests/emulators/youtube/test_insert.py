"""videos.insert (resumable) on the YouTube front door: the session's start, its refusals, the final answer."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from ..google_resumable.helpers import (
    ALIGN,
    INSERT,
    VIDEO_BODY,
    YOUTUBE_AUTH,
    YT_CONTROL,
    put,
    session_info,
    sha256,
    upload_all,
    upload_id,
    yt_session,
    yt_start,
)


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()["error"]
    assert body["code"] == response.status_code and len(body["errors"]) == 1
    return body["errors"][0]


def test_insert_answers_an_absolute_session_uri_and_the_video_at_completion(google, emulator):
    data = os.urandom(ALIGN + 100)
    body = {"snippet": {"title": "Launch", "description": "d", "tags": ["a", "b c"], "categoryId": "10",
                        "defaultLanguage": "en"},
            "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False, "license": "creativeCommon",
                       "embeddable": False}}  # fmt: skip
    started = yt_start(google, body, total=len(data), notifySubscribers="false")
    assert started.status_code == 200 and started.content == b""
    url = started.headers["Location"]
    assert url.startswith(f"{emulator.url}{INSERT}?uploadType=resumable&upload_id=")
    assert session_info(google, YT_CONTROL, url)["state"] == "open"
    final = upload_all(google, url, data, ALIGN)
    assert final.status_code == 201
    video = final.json()
    assert video["kind"] == "youtube#video" and len(video["id"]) == 11
    assert video["snippet"]["title"] == "Launch" and video["snippet"]["tags"] == ["a", "b c"]
    assert video["snippet"]["categoryId"] == "10" and video["snippet"]["defaultLanguage"] == "en"
    assert video["status"]["uploadStatus"] == "uploaded" and video["status"]["privacyStatus"] == "unlisted"
    assert video["status"]["license"] == "creativeCommon" and video["status"]["embeddable"] is False
    info = google.get(f"{YT_CONTROL}/videos/{video['id']}").json()
    assert info["sha256"] == sha256(data) and info["size"] == len(data) and info["notify_subscribers"] is False
    assert info["upload_id"] == upload_id(url) and info["content_type"] == "video/mp4"


def test_the_session_uri_follows_the_host_the_client_used(google, emulator):
    started = google.post(INSERT, params={"uploadType": "resumable", "part": "snippet"}, json=VIDEO_BODY,
                          headers={**YOUTUBE_AUTH, "Host": "youtube.example:8443"})  # fmt: skip
    assert started.headers["Location"].startswith(f"http://youtube.example:8443{INSERT}?")


def test_completion_status_may_be_200(google, emulator):
    emulator.config.youtube.completion_status = 200
    url = yt_session(google, total=10)
    assert put(google, url, b"0123456789", 0, 10).status_code == 200


def _with(snippet: dict[str, Any] | None = None, status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"snippet": {"title": "ok", **(snippet or {})}, "status": {"privacyStatus": "private", **(status or {})}}


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (_with({"title": ""}), 400, "invalidTitle"),
        (_with({"title": "x" * 101}), 400, "invalidTitle"),
        (_with({"title": "a <b>"}), 400, "invalidTitle"),
        ({"status": {"privacyStatus": "private"}}, 400, "invalidTitle"),
        (_with({"description": "é" * 2501}), 400, "invalidDescription"),
        (_with({"tags": ["x" * 501]}), 400, "invalidTags"),
        (_with({"tags": "a,b"}), 400, "invalidTags"),
        (_with({"categoryId": 22}), 400, "invalidCategoryId"),
        (_with({"categoryId": "99"}), 400, "invalidCategoryId"),
        (_with({"defaultLanguage": ""}), 400, "invalidVideoMetadata"),
        (_with(status={"privacyStatus": "secret"}), 400, "invalidVideoMetadata"),
        (_with(status={"privacyStatus": "public", "publishAt": "2099-01-01T00:00:00Z"}), 400, "invalidPublishAt"),
        (_with(status={"publishAt": "2000-01-01T00:00:00Z"}), 400, "invalidPublishAt"),
        (_with(status={"publishAt": "tomorrow"}), 400, "invalidPublishAt"),
        (_with(status={"license": "gpl"}), 403, "forbiddenLicenseSetting"),
        (_with(status={"embeddable": "yes"}), 400, "invalidVideoMetadata"),
        ([1, 2], 400, "parseError"),
    ],
)  # fmt: skip
def test_metadata_refusals(google, body, status, reason):
    answer = yt_start(google, body)
    assert answer.status_code == status, answer.text
    assert error_of(answer)["reason"] == reason
    assert google.get(f"{YT_CONTROL}/sessions").json() == []


def test_a_future_publish_at_on_a_private_video_is_taken(google):
    url = yt_session(google, body=_with(status={"publishAt": "2099-01-01T00:00:00Z"}), total=1)
    video = put(google, url, b"x", 0, 1).json()
    assert video["status"]["publishAt"] == "2099-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("params", "headers", "reason"),
    [
        ({"uploadType": "multipart"}, {}, "invalidParameter"),
        ({"part": ""}, {}, "unexpectedPart"),
        ({"part": "snippet,fileDetails"}, {}, "unexpectedPart"),
        ({}, {"X-Upload-Content-Type": "text/plain"}, "badContent"),
        ({}, {"X-Upload-Content-Length": "lots"}, "badContent"),
    ],
)  # fmt: skip
def test_request_refusals(google, params, headers, reason):
    answer = google.post(INSERT, params={"uploadType": "resumable", "part": "snippet,status", **params},
                         headers={**YOUTUBE_AUTH, **headers}, json=VIDEO_BODY)  # fmt: skip
    assert answer.status_code == 400 and error_of(answer)["reason"] == reason


def test_a_missing_body_and_an_oversized_upload_are_refused(google, emulator):
    empty = google.post(INSERT, params={"uploadType": "resumable", "part": "snippet"}, headers=YOUTUBE_AUTH)
    assert empty.status_code == 400 and error_of(empty)["reason"] == "required"
    emulator.config.youtube.max_size = 1000
    big = yt_start(google, total=1001)
    assert big.status_code == 413 and error_of(big)["reason"] == "uploadTooLarge"


def test_put_without_a_session_is_refused(google):
    answer = google.put(INSERT, headers=YOUTUBE_AUTH, content=b"x")
    assert answer.status_code == 400 and error_of(answer)["reason"] == "required"


def test_the_insert_quota_ends_uploads_at_initiation_until_the_next_pacific_day(google, emulator, clock):
    emulator.config.youtube.insert_quota = 2
    assert [yt_start(google).status_code for _ in range(2)] == [200, 200]
    over = yt_start(google)
    assert over.status_code == 403
    assert error_of(over)["domain"] == "youtube.quota" and error_of(over)["reason"] == "quotaExceeded"
    stats = google.get("/_emulator/stats").json()
    assert stats["youtube_insert_quota_used"] == 2 and stats["youtube_inserts"] == 2 and stats["youtube_sessions"] == 2
    clock.advance(86400)
    assert yt_start(google).status_code == 200


def test_the_upload_limit_counts_the_channels_videos(google, emulator):
    emulator.config.youtube.upload_limit = 1
    url = yt_session(google, total=1)
    assert yt_start(google).status_code == 200  # sessions are not videos
    put(google, url, b"x", 0, 1)
    over = yt_start(google)
    assert over.status_code == 400
    assert error_of(over)["reason"] == "uploadLimitExceeded" and error_of(over)["domain"] == "youtube.video"
    assert "exceeded the number of videos they may upload" in over.json()["error"]["message"]


def test_unaudited_projects_get_private_videos(google, emulator):
    emulator.config.youtube.force_private = True
    url = yt_session(google, body=_with(status={"privacyStatus": "public"}), total=1)
    assert put(google, url, b"x", 0, 1).json()["status"]["privacyStatus"] == "private"
