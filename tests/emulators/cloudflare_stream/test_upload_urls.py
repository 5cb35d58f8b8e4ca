"""tus on Cloudflare Stream's upload URLs: the chunk rules, a broken body that keeps nothing, OPTIONS, termination,
and faulted chunks under a client that resumes."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import httpx
import pytest

from ..tus.helpers import raw_patch, wait_for
from .helpers import MAX_CHUNK, MIN_CHUNK, MULTIPLE, OCTETS, STREAM, head, inspect, new_video, patch, sha256


def test_options_announce_creation_expiration_termination(cf, emulator):
    _, location = new_video(cf, 10)
    for url in (f"{emulator.url}{STREAM}", location):
        response = httpx.options(url)
        assert response.status_code == 204 and response.headers["tus-version"] == "1.0.0"
        assert response.headers["tus-extension"] == "creation,expiration,termination"
        assert response.headers["tus-max-size"] == "30000000000"


@pytest.mark.parametrize(
    ("length", "chunk", "ok"),
    [
        (3 * MIN_CHUNK, MIN_CHUNK, True),  # the smallest non-final chunk
        (3 * MIN_CHUNK, MIN_CHUNK - MULTIPLE, False),  # under the minimum
        (3 * MIN_CHUNK, MIN_CHUNK + 100, False),  # not a multiple of 256 KiB (scaled)
        (2 * MAX_CHUNK, MAX_CHUNK + MULTIPLE, False),  # over the maximum
        (MAX_CHUNK, MAX_CHUNK, True),  # a whole file in one chunk at the maximum
        (MAX_CHUNK + 1, MAX_CHUNK + 1, False),  # a final chunk over the maximum
        (100, 100, True),  # a small file: its only chunk is the last
    ],
)
def test_chunk_rules(cf, anon, length, chunk, ok):
    uid, location = new_video(cf, length)
    response = patch(cf, location, 0, os.urandom(chunk))
    if ok:
        assert response.status_code == 204 and response.headers["upload-offset"] == str(chunk)
        return
    assert response.status_code == 400 and response.text.startswith("Bad chunk size")
    assert response.headers["content-type"].startswith("text/plain")
    assert head(cf, location).headers["upload-offset"] == "0"
    assert inspect(anon, uid)["received_bytes"] == 0
    assert anon.get("/_emulator/stats").json()["cloudflare_stream_chunks_refused"] == 1


def test_the_rule_also_holds_for_a_body_of_unknown_length(cf):
    _, location = new_video(cf, 3 * MIN_CHUNK)

    def body():
        yield os.urandom(1000)

    response = cf.patch(location, content=body(), headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                                                            "Content-Type": OCTETS})  # fmt: skip
    assert response.status_code == 400 and "1000 bytes" in response.text
    assert head(cf, location).headers["upload-offset"] == "0"


def test_an_upload_in_chunks_byte_exact_with_a_short_last_chunk(cf, anon):
    data = os.urandom(3 * MIN_CHUNK + 777)
    uid, location = new_video(cf, len(data))
    for start in range(0, len(data), MIN_CHUNK):
        assert patch(cf, location, start, data[start:start + MIN_CHUNK]).status_code == 204
    info = inspect(anon, uid)
    assert info["sha256"] == sha256(data) and info["patches"] == 4 and info["state"] == "queued"


def test_broken_body_keeps_nothing(cf, anon, emulator):
    data = os.urandom(2 * MIN_CHUNK)
    uid, location = new_video(cf, len(data))
    assert patch(cf, location, 0, data[:MIN_CHUNK]).status_code == 204
    sock = raw_patch(emulator.url, f"/cloudflare/tus/{uid}", MIN_CHUNK, MIN_CHUNK, data[MIN_CHUNK:MIN_CHUNK + 3000])
    sock.close()  # a token-mode upload is not served there: nothing happens to it
    direct_uid, direct = new_video(cf, len(data), direct_user=True)
    assert patch(anon, direct, 0, data[:MIN_CHUNK]).status_code == 204
    sock = raw_patch(emulator.url, urlsplit(direct).path, MIN_CHUNK, MIN_CHUNK, data[MIN_CHUNK:MIN_CHUNK + 3000])
    wait_for(lambda: inspect(anon, direct_uid)["patching"])
    sock.close()
    wait_for(lambda: anon.get("/_emulator/stats").json()["cloudflare_stream_broken_bodies"] == 1)
    info = wait_for(lambda: (i := inspect(anon, direct_uid)) and not i["patching"] and i)
    assert info["received_bytes"] == MIN_CHUNK
    assert head(anon, direct).headers["upload-offset"] == str(MIN_CHUNK)
    assert patch(anon, direct, MIN_CHUNK, data[MIN_CHUNK:]).status_code == 204
    assert inspect(anon, direct_uid)["sha256"] == sha256(data)
    assert inspect(anon, uid)["received_bytes"] == MIN_CHUNK


def test_termination_on_the_upload_url_deletes_the_video(cf, anon):
    uid, location = new_video(cf, 10)
    response = cf.delete(location, headers={"Tus-Resumable": "1.0.0"})
    assert response.status_code == 204
    assert cf.get(f"{STREAM}/{uid}").status_code == 404 and head(cf, location).status_code == 404
    assert inspect(anon, uid)["deleted"] is True


def test_a_post_or_get_on_an_upload_url_is_405(cf):
    _, location = new_video(cf, 10)
    assert cf.post(location, headers={"Tus-Resumable": "1.0.0"}).status_code == 405
    assert cf.get(location, headers={"Tus-Resumable": "1.0.0"}).status_code == 405


def test_expired_upload_url_is_410(cf, anon):
    uid, location = new_video(cf, 10)
    assert anon.post(f"/_emulator/cloudflare_stream/videos/{uid}/expire").json()["uid"] == uid
    assert head(cf, location).status_code == 410


def test_chunks_preset_faults_patches_and_a_resuming_client_finishes(cf, anon):
    preset = anon.post("/_emulator/faults", json={"preset": "chunks:0.3", "seed": 11})
    assert preset.status_code == 201
    assert any("/media/" in rule["match"] for rule in preset.json()["rules"])
    data = os.urandom(12 * MIN_CHUNK + 5)
    uid, location = new_video(cf, len(data))
    offset, failures = 0, 0
    while offset < len(data):
        try:
            response = patch(cf, location, offset, data[offset:offset + MIN_CHUNK])
            if response.status_code == 204:
                offset = int(response.headers["upload-offset"])
                continue
        except httpx.TransportError:
            pass
        failures += 1
        assert failures < 100
        offset = int(head(cf, location).headers["upload-offset"])
        assert offset % MIN_CHUNK == 0  # a chunk is kept whole or not at all
    assert failures > 0
    assert inspect(anon, uid)["sha256"] == sha256(data)
