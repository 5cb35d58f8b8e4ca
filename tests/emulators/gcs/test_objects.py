"""Cloud Storage's front door: starting a session, the object at completion, hashes, preconditions, reading back."""

from __future__ import annotations

import os

import pytest

from ..google_resumable.helpers import (
    ALIGN,
    GCS_AUTH,
    GCS_CONTROL,
    crc32c_b64,
    gcs_session,
    gcs_start,
    md5_b64,
    put,
    query,
    session_info,
    sha256,
    upload_all,
    upload_id,
)  # fmt: skip


def reason_of(response) -> str:
    return response.json()["error"]["errors"][0]["reason"]


def test_the_object_at_completion_has_googles_fields(google, emulator):
    data = os.urandom(ALIGN + 3000)
    started = gcs_start(google, "clips/a b.mp4", len(data), body={"contentType": "video/webm",
                                                                  "metadata": {"origin": "test"}})  # fmt: skip
    assert started.status_code == 200 and started.content == b""
    url = started.headers["Location"]
    assert url.startswith(f"{emulator.url}/upload/storage/v1/b/media/o?uploadType=resumable&upload_id=")
    final = upload_all(google, url, data, ALIGN)
    assert final.status_code == 200
    obj = final.json()
    assert obj["kind"] == "storage#object" and obj["name"] == "clips/a b.mp4" and obj["bucket"] == "media"
    assert obj["size"] == str(len(data)) and obj["contentType"] == "video/webm"
    assert obj["md5Hash"] == md5_b64(data) and obj["crc32c"] == crc32c_b64(data)
    assert obj["generation"].isdigit() and obj["id"] == f"media/clips/a b.mp4/{obj['generation']}"
    assert obj["metadata"] == {"origin": "test"} and obj["metageneration"] == "1"
    info = google.get(f"{GCS_CONTROL}/objects/media/clips/a b.mp4").json()
    assert info["sha256"] == sha256(data) and info["size"] == len(data) and info["upload_id"] == upload_id(url)


def test_the_name_may_come_in_the_body_and_the_type_from_the_header(google):
    started = google.post("/upload/storage/v1/b/media/o", params={"uploadType": "resumable"}, json={"name": "n.mp4"},
                          headers={**GCS_AUTH, "X-Upload-Content-Type": "video/mp4"})  # fmt: skip
    obj = put(google, started.headers["Location"], b"abc", 0, 3).json()
    assert obj["name"] == "n.mp4" and obj["contentType"] == "video/mp4"


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"name": ""}, 400, "required"),
        ({"uploadType": "media"}, 400, "invalid"),
        ({"body": {"metadata": {"n": 1}}}, 400, "invalid"),
        ({"ifGenerationMatch": "x"}, 400, "invalid"),
        ({"total": 6 * 1024**4}, 413, "uploadTooLarge"),
    ],
)  # fmt: skip
def test_initiation_refusals(google, kwargs, status, reason):
    answer = gcs_start(google, **kwargs)
    assert answer.status_code == status and reason_of(answer) == reason
    assert google.get(f"{GCS_CONTROL}/sessions").json() == []


def test_configured_buckets_refuse_others(google, emulator):
    emulator.config.gcs.buckets = ["media"]
    assert gcs_start(google).status_code == 200
    other = gcs_start(google, bucket="other")
    assert other.status_code == 404 and reason_of(other) == "notFound"


def test_if_generation_match_zero_refuses_an_existing_object_at_initiation(google):
    assert put(google, gcs_session(google, "a.mp4", ifGenerationMatch=0), b"x", 0, 1).status_code == 200
    again = gcs_start(google, "a.mp4", ifGenerationMatch=0)
    assert again.status_code == 412 and reason_of(again) == "conditionNotMet"


def test_if_generation_match_is_checked_again_at_completion(google):
    first = gcs_session(google, "a.mp4", ifGenerationMatch=0)
    second = gcs_session(google, "a.mp4", ifGenerationMatch=0)
    generation = put(google, first, b"x", 0, 1).json()["generation"]
    late = put(google, second, b"y", 0, 1)
    assert late.status_code == 412 and query(google, second).status_code == 410
    assert google.get("/storage/v1/b/media/o/a.mp4", headers=GCS_AUTH).json()["generation"] == generation
    matching = gcs_session(google, "a.mp4", ifGenerationMatch=generation)
    assert int(put(google, matching, b"z", 0, 1).json()["generation"]) > int(generation)


@pytest.mark.parametrize("where", ["header", "body"])
def test_matching_hashes_are_taken(google, where):
    data = os.urandom(1000)
    if where == "header":
        url = gcs_session(google, total=len(data))
        answer = put(google, url, data, 0, len(data), {"X-Goog-Hash": f"crc32c={crc32c_b64(data)},md5={md5_b64(data)}"})
    else:
        url = gcs_session(google, total=len(data), body={"crc32c": crc32c_b64(data), "md5Hash": md5_b64(data)})
        answer = put(google, url, data, 0, len(data))
    assert answer.status_code == 200


@pytest.mark.parametrize(("header", "label"), [("crc32c=AAAAAA==", "CRC32C"), ("md5=AAAAAAAAAAAAAAAAAAAAAA==", "MD5")])
def test_a_hash_mismatch_is_400_and_no_object(google, header, label):
    data = os.urandom(ALIGN + 10)
    url = gcs_session(google, "bad.mp4", len(data))
    put(google, url, data[:ALIGN], 0, len(data))
    answer = put(google, url, data[ALIGN:], ALIGN, len(data), {"X-Goog-Hash": header})
    assert answer.status_code == 400 and f"doesn't match calculated {label}" in answer.json()["error"]["message"]
    assert google.get("/storage/v1/b/media/o/bad.mp4", headers=GCS_AUTH).status_code == 404
    assert query(google, url).status_code == 410
    info = session_info(google, GCS_CONTROL, url)
    assert info["state"] == "dead" and "invalid" in info["dead_reason"]


def test_reading_back_and_deleting_an_object(google):
    data = os.urandom(5000)
    url = gcs_session(google, "dir/x.mp4", len(data))
    put(google, url, data, 0, len(data))
    meta = google.get("/storage/v1/b/media/o/dir%2Fx.mp4", headers=GCS_AUTH)
    assert meta.status_code == 200 and meta.json()["size"] == "5000"
    media = google.get("/storage/v1/b/media/o/dir%2Fx.mp4", params={"alt": "media"}, headers=GCS_AUTH)
    assert media.content == data
    download = google.get("/download/storage/v1/b/media/o/dir%2Fx.mp4", params={"alt": "media"}, headers=GCS_AUTH)
    assert download.content == data
    assert download.headers["X-Goog-Hash"] == f"crc32c={crc32c_b64(data)},md5={md5_b64(data)}"
    assert google.delete("/storage/v1/b/media/o/dir%2Fx.mp4", headers=GCS_AUTH).status_code == 204
    gone = google.get("/storage/v1/b/media/o/dir%2Fx.mp4", headers=GCS_AUTH)
    assert gone.status_code == 404 and reason_of(gone) == "notFound"
    assert google.delete("/storage/v1/b/media/o/dir%2Fx.mp4", headers=GCS_AUTH).status_code == 404
    stats = google.get("/_emulator/stats").json()
    assert stats["gcs_objects"] == 0 and stats["gcs_objects_created"] == 1 and stats["gcs_objects_deleted"] == 1


def test_a_new_upload_replaces_the_object(google, emulator):
    for data in (b"first", b"second!"):
        put(google, gcs_session(google, "same.mp4", len(data)), data, 0, len(data))
    listed = google.get(f"{GCS_CONTROL}/objects").json()
    assert [(o["name"], o["size"]) for o in listed] == [("same.mp4", 7)]
    assert google.get("/storage/v1/b/media/o/same.mp4", params={"alt": "media"}, headers=GCS_AUTH).content == b"second!"
    assert len(list((emulator.config.data_dir / "gcs").glob("*.bin"))) == 1
