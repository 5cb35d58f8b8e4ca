"""Vimeo's API on the emulator: POST /me/videos, GET and DELETE /videos/{id}, auth, fields, status, rate limits."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import httpx
import pytest

from .helpers import ACCEPT, CONTROL, create, inspect, new_video, patch, sha256, video_id

ERROR_KEYS = {"error", "developer_message", "error_code", "link"}


def assert_vimeo_error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/vnd.vimeo.error+json")
    body = response.json()
    assert set(body) == ERROR_KEYS and body["error_code"] == code and body["link"] is None
    assert body["error"] and body["developer_message"]
    return body["developer_message"]


def test_create_answers_200_with_the_video_and_an_absolute_upload_link(vimeo, emulator):
    response = create(vimeo, 1234, name="clip", description="about it", privacy={"view": "unlisted"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.vimeo.video+json")
    video = response.json()
    vid = video_id(video)
    assert video["uri"] == f"/videos/{vid}" and vid.isdigit()
    assert video["name"] == "clip" and video["description"] == "about it"
    assert video["link"] == f"{emulator.url}/vimeo/{vid}"
    assert video["privacy"]["view"] == "unlisted" and video["status"] == "uploading"
    assert video["transcode"] == {"status": "in_progress"}
    upload = video["upload"]
    assert (upload["approach"], upload["status"], upload["size"]) == ("tus", "in_progress", 1234)
    link = urlsplit(upload["upload_link"])
    assert f"{link.scheme}://{link.netloc}" == emulator.url
    assert link.path.startswith("/vimeo/upload/") and len(link.path.rsplit("/", 1)[1]) == 32


def test_upload_link_follows_the_host_the_request_named(vimeo, emulator):
    port = urlsplit(emulator.url).port
    response = vimeo.post(f"http://localhost:{port}/vimeo/me/videos", json={"upload": {"approach": "tus", "size": 5}})
    assert response.json()["upload"]["upload_link"].startswith(f"http://localhost:{port}/vimeo/upload/")


def test_fields_trim_post_and_get_answers(vimeo):
    video = create(vimeo, 10, fields="uri,upload").json()
    assert set(video) == {"uri", "upload"} and video["upload"]["upload_link"]
    got = vimeo.get(video["uri"], params={"fields": "uri,upload.status,transcode.status,nosuch,upload.nosuch"})
    assert got.json() == {"uri": video["uri"], "upload": {"status": "in_progress"},
                          "transcode": {"status": "in_progress"}}  # fmt: skip


@pytest.mark.parametrize("accept", [ACCEPT, "application/vnd.vimeo.*;version=3.4", "application/json", None])
def test_any_accept_header_is_taken(emulator, accept):
    headers = {"Authorization": "Bearer vimeo-token", **({"Accept": accept} if accept else {})}
    response = httpx.post(f"{emulator.url}/vimeo/me/videos", headers=headers,
                          json={"upload": {"approach": "tus", "size": 1}})  # fmt: skip
    assert response.status_code == 200


def test_size_as_a_numeric_string_and_extra_fields_are_taken(vimeo):
    video = new_video(vimeo, "42", chunk_size=1024, folder_uri="/folders/1")  # PyVimeo leaks chunk_size
    assert video["upload"]["size"] == 42


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({}, 2230, "upload"),
        ({"upload": {"size": 5}}, 2230, "approach"),
        ({"upload": {"approach": "post", "size": 5}}, 2230, "approach"),
        ({"upload": {"approach": "tus"}}, 2204, "upload.size"),
        ({"upload": {"approach": "tus", "size": 0}}, 2204, "upload.size"),
        ({"upload": {"approach": "tus", "size": "12a"}}, 2204, "upload.size"),
        ({"upload": {"approach": "tus", "size": True}}, 2204, "upload.size"),
        ({"upload": {"approach": "tus", "size": 5}, "privacy": {"view": "friends"}}, 2204, "privacy.view"),
        ({"upload": {"approach": "tus", "size": 5}, "privacy": {"view": "password"}}, 2204, "password"),
        ({"upload": {"approach": "tus", "size": 5}, "name": "x" * 129}, 2204, "128"),
        ({"upload": {"approach": "tus", "size": 5}, "description": 7}, 2204, "description"),
        ([1, 2], 2205, "JSON object"),
    ],
)
def test_creation_refusals(vimeo, anon, body, code, words):
    message = assert_vimeo_error(vimeo.post("/me/videos", json=body), 400, code)
    assert words in message
    assert anon.get(f"{CONTROL}/videos").json() == []


def test_not_json_is_2205(vimeo):
    assert_vimeo_error(vimeo.post("/me/videos", content=b"{nope"), 400, 2205)


def test_name_of_128_chars_and_password_privacy_are_taken(vimeo):
    video = new_video(vimeo, 5, name="x" * 128, privacy={"view": "password"}, password="secret")
    assert video["privacy"]["view"] == "password" and len(video["name"]) == 128


def test_quota_is_403_4102(vimeo, emulator):
    emulator.config.vimeo.max_size = 100
    assert new_video(vimeo, 100)["upload"]["size"] == 100
    assert "quota" in assert_vimeo_error(create(vimeo, 101), 403, 4102)


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dmltZW8tdG9rZW4=", "vimeo-token"])
def test_api_needs_a_known_bearer_token(emulator, vimeo, header):
    video = new_video(vimeo, 3)
    headers = {"Authorization": header} if header else {}
    base = f"{emulator.url}/vimeo"
    with httpx.Client(base_url=base, headers=headers) as other:
        assert_vimeo_error(other.post("/me/videos", json={"upload": {"approach": "tus", "size": 1}}), 401, 8002)
        assert_vimeo_error(other.get(video["uri"]), 401, 8002)
        assert_vimeo_error(other.delete(video["uri"]), 401, 8002)
    assert vimeo.get(video["uri"]).status_code == 200


def test_another_token_from_the_config(emulator):
    emulator.config.vimeo.tokens = ["t1", "t2"]
    response = httpx.post(f"{emulator.url}/vimeo/me/videos", headers={"Authorization": "Bearer t2"},
                          json={"upload": {"approach": "tus", "size": 1}})  # fmt: skip
    assert response.status_code == 200


def test_unknown_video_is_404_5000(vimeo):
    assert_vimeo_error(vimeo.get("/videos/123"), 404, 5000)
    assert_vimeo_error(vimeo.delete("/videos/123"), 404, 5000)


def test_other_methods_are_405(vimeo):
    response = vimeo.put("/me/videos", json={})
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert vimeo.patch("/videos/1", json={}).headers["allow"] == "GET, DELETE"


def test_statuses_follow_the_upload_and_the_transcode_clock(vimeo, link, anon, clock, emulator):
    emulator.config.vimeo.transcode_secs = 5
    data = os.urandom(50_000)
    video = new_video(vimeo, len(data))
    url, uri = video["upload"]["upload_link"], video["uri"]
    fields = {"fields": "status,upload.status,transcode.status,is_playable"}

    def state() -> tuple[str, str, str, bool]:
        got = vimeo.get(uri, params=fields).json()
        return got["status"], got["upload"]["status"], got["transcode"]["status"], got["is_playable"]

    assert patch(link, url, 0, data[:20_000]).status_code == 204
    assert state() == ("uploading", "in_progress", "in_progress", False)
    assert patch(link, url, 20_000, data[20_000:]).status_code == 204
    assert state() == ("transcoding", "complete", "in_progress", False)
    clock.advance(4.9)
    assert state()[2] == "in_progress"
    clock.advance(0.1)
    assert state() == ("available", "complete", "complete", True)
    info = inspect(anon, video_id(video))
    assert info["sha256"] == sha256(data) and info["received_bytes"] == len(data)
    assert info["completed_at"] is not None and info["transcode_status"] == "complete"


@pytest.mark.parametrize(
    ("rates", "expected", "kind"),
    [
        ({"transcode_failure_rate": 1.0}, ("transcoding_error", "complete", "error"), "vimeo_transcode"),
        ({"upload_failure_rate": 1.0}, ("uploading_error", "error", "error"), "vimeo_upload"),
    ],
)
def test_fault_kinds_end_in_error(vimeo, link, anon, clock, emulator, rates, expected, kind):
    for name, value in rates.items():
        setattr(emulator.config.vimeo, name, value)
    video = new_video(vimeo, 3)
    assert patch(link, video["upload"]["upload_link"], 0, b"abc").status_code == 204
    clock.advance(emulator.config.vimeo.transcode_secs)
    got = vimeo.get(video["uri"]).json()
    assert (got["status"], got["upload"]["status"], got["transcode"]["status"]) == expected
    assert anon.get("/_emulator/faults").json()["injected"][kind] == 1


def test_delete_is_204_then_video_and_link_are_404(vimeo, link, anon):
    video = new_video(vimeo, 6)
    url = video["upload"]["upload_link"]
    assert patch(link, url, 0, b"abc").status_code == 204
    assert vimeo.delete(video["uri"]).status_code == 204
    assert_vimeo_error(vimeo.get(video["uri"]), 404, 5000)
    assert_vimeo_error(vimeo.delete(video["uri"]), 404, 5000)
    assert link.head(url).status_code == 404
    assert patch(link, url, 3, b"def").status_code == 404
    info = inspect(anon, video_id(video))
    assert info["deleted"] is True and info["sha256"] is None


def test_rate_limit_headers_and_429_when_the_window_is_used_up(vimeo, link, clock, emulator):
    emulator.config.vimeo.rate_limit = 2
    first = create(vimeo, 3)
    assert first.headers["x-ratelimit-limit"] == "2" and first.headers["x-ratelimit-remaining"] == "1"
    reset = first.headers["x-ratelimit-reset"]
    assert reset.endswith("+00:00") and "T" in reset
    url = first.json()["upload"]["upload_link"]
    assert vimeo.get(first.json()["uri"]).headers["x-ratelimit-remaining"] == "0"
    limited = vimeo.get(first.json()["uri"])
    assert_vimeo_error(limited, 429, 9000)
    assert limited.headers["x-ratelimit-remaining"] == "0" and limited.headers["x-ratelimit-reset"] == reset
    assert patch(link, url, 0, b"abc").status_code == 204  # the upload link is not the API: not counted
    clock.advance(emulator.config.vimeo.rate_limit_window_secs)
    assert vimeo.get(first.json()["uri"]).status_code == 200


def test_injected_429_on_the_api_and_on_the_link(vimeo, link, anon):
    video = new_video(vimeo, 3)
    rules = [{"match": "^GET /vimeo/videos/", "action": "rate_limit", "retry_after_secs": 4},
             {"match": "^PATCH /vimeo/upload/", "action": "rate_limit", "retry_after_secs": 2}]  # fmt: skip
    assert anon.post("/_emulator/faults", json=rules).status_code == 201
    api = vimeo.get(video["uri"])
    assert_vimeo_error(api, 429, 9000)
    assert api.headers["retry-after"] == "4" and api.headers["x-ratelimit-remaining"] == "0"
    tus = patch(link, video["upload"]["upload_link"], 0, b"abc")
    assert tus.status_code == 429 and tus.headers["retry-after"] == "2" and tus.headers["tus-resumable"] == "1.0.0"
