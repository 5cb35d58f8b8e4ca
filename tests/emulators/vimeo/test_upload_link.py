"""A Vimeo upload link as tus 1.0.0: pre-created, no auth, HEAD/PATCH/OPTIONS, broken bodies kept, expiry."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import urlsplit

import httpx

from ..tus.helpers import raw_patch, wait_for
from .helpers import OCTETS, inspect, new_video, patch, sha256, video_id


def test_options_announce_no_checksum_and_no_concatenation(vimeo, emulator):
    url = new_video(vimeo, 3)["upload"]["upload_link"]
    response = httpx.options(url)
    assert response.status_code == 204 and response.headers["tus-version"] == "1.0.0"
    assert response.headers["tus-extension"] == "expiration"
    assert "tus-checksum-algorithm" not in response.headers


def test_chunks_without_any_credential_byte_exact(vimeo, link, anon):
    data = os.urandom(150_000)
    video = new_video(vimeo, len(data))
    url = video["upload"]["upload_link"]
    head = link.head(url)
    assert head.status_code == 200 and head.headers["upload-offset"] == "0"
    assert head.headers["upload-length"] == str(len(data)) and head.headers["cache-control"] == "no-store"
    for start in range(0, len(data), 40_000):
        response = patch(link, url, start, data[start:start + 40_000])
        assert response.status_code == 204 and response.headers["tus-resumable"] == "1.0.0"
    assert link.head(url).headers["upload-offset"] == str(len(data))
    info = inspect(anon, video_id(video))
    assert info["sha256"] == sha256(data) and info["patches"] == 4 and info["upload_status"] == "complete"


def test_post_to_the_link_is_405_and_tus_rules_hold(vimeo, link):
    url = new_video(vimeo, 6)["upload"]["upload_link"]
    posted = link.post(url, headers={"Upload-Length": "6"})
    assert posted.status_code == 405 and "POST" not in posted.headers["allow"]
    assert link.delete(url).status_code == 405  # no termination: the video is deleted through the API
    assert link.head(url, headers={"Tus-Resumable": "0.2.2"}).status_code == 412
    assert patch(link, url, 1, b"abc").status_code == 409
    assert patch(link, url, 0, b"abcdefg").status_code == 413
    wrong_type = link.patch(url, content=b"abc", headers={"Upload-Offset": "0", "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    assert link.head(url).headers["upload-offset"] == "0"


def test_an_unknown_link_is_404(emulator, link):
    assert link.head(f"{emulator.url}/vimeo/upload/{'0' * 32}").status_code == 404


def test_broken_body_keeps_what_arrived(vimeo, link, anon, emulator):
    data = os.urandom(10_000)
    video = new_video(vimeo, len(data))
    vid, path = video_id(video), urlsplit(video["upload"]["upload_link"]).path
    sock = raw_patch(emulator.url, path, 0, len(data), data[:4_000])
    wait_for(lambda: inspect(anon, vid)["patching"])
    sock.close()
    info = wait_for(lambda: (i := inspect(anon, vid))["kept_from_broken"] and not i["patching"] and i)
    assert info["received_bytes"] == 4_000
    url = video["upload"]["upload_link"]
    offset = int(link.head(url).headers["upload-offset"])
    assert patch(link, url, offset, data[offset:]).status_code == 204
    assert inspect(anon, vid)["sha256"] == sha256(data)
    assert anon.get("/_emulator/stats").json()["vimeo_broken_bodies"] == 1


def test_expired_link_is_410_and_the_upload_status_error(vimeo, link, anon):
    video = new_video(vimeo, 6)
    url = video["upload"]["upload_link"]
    assert "upload-expires" in link.head(url).headers
    info = anon.post(f"/_emulator/vimeo/videos/{video_id(video)}/expire").json()
    assert info["expired"] is True and info["upload_status"] == "error"
    assert link.head(url).status_code == 410 and patch(link, url, 0, b"abc").status_code == 410
    got = vimeo.get(video["uri"]).json()
    assert (got["status"], got["upload"]["status"]) == ("uploading_error", "error")


def test_chunks_preset_faults_link_patches_only(vimeo, link, anon):
    preset = anon.post("/_emulator/faults", json={"preset": "chunks:0.2", "seed": 5})
    assert preset.status_code == 201
    assert any("PATCH /vimeo/upload/" in rule["match"] for rule in preset.json()["rules"])
    data = os.urandom(100 * 1024)
    video = new_video(vimeo, len(data))
    url = video["upload"]["upload_link"]
    offset, failures = 0, 0
    while offset < len(data):
        try:
            response = patch(link, url, offset, data[offset:offset + 4096])
            if response.status_code == 204:
                offset = int(response.headers["upload-offset"])
                continue
        except httpx.TransportError:
            pass
        failures += 1
        assert failures < 100
        offset = int(link.head(url).headers["upload-offset"])
    assert failures > 0
    assert inspect(anon, video_id(video))["sha256"] == hashlib.sha256(data).hexdigest()
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["POST /vimeo/me/videos"]["statuses"] == {"200": 1}


def test_a_patch_with_a_checksum_is_taken_unverified(vimeo, link):
    url = new_video(vimeo, 3)["upload"]["upload_link"]
    response = link.patch(url, content=b"abc", headers={"Upload-Offset": "0", "Content-Type": OCTETS,
                                                        "Upload-Checksum": "sha1 AAAA"})  # fmt: skip
    assert response.status_code == 204 and response.headers["upload-offset"] == "3"
