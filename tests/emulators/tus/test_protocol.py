"""The generic tus 1.0.0 server over real HTTP: every rule of the core protocol and its extensions."""

from __future__ import annotations

import base64
import hashlib
import os
from email.utils import parsedate_to_datetime

import httpx
import pytest

from .helpers import (
    OCTETS,
    b64,
    create,
    inspect,
    new_upload,
    patch,
    raw_patch,
    read_status,
    sha256,
    upload_id,
    wait_for,
)

ALL_EXTENSIONS = "creation,creation-with-upload,creation-defer-length,termination,expiration,checksum,concatenation"


def test_options_advertises_version_extensions_and_checksums(tus, emulator):
    response = httpx.options(f"{emulator.url}/files/")  # no Tus-Resumable needed
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert response.headers["tus-extension"] == ALL_EXTENSIONS
    assert response.headers["tus-checksum-algorithm"] == "sha1,sha256,md5"
    assert "tus-max-size" not in response.headers
    emulator.config.tus.max_size = 1000
    assert tus.options("/files/").headers["tus-max-size"] == "1000"


def test_upload_in_chunks_byte_exact(tus, anon):
    data = os.urandom(100_000)
    url = new_upload(tus, len(data), Upload_Metadata=f"filename {b64('clip.mp4')},filetype {b64('video/mp4')}")
    assert url.startswith("/files/")  # relative by default
    for offset in range(0, len(data), 30_000):
        chunk = data[offset:offset + 30_000]
        response = patch(tus, url, offset, chunk)
        assert response.status_code == 204
        assert response.headers["upload-offset"] == str(offset + len(chunk))
        assert response.headers["tus-resumable"] == "1.0.0"
    info = inspect(anon, url)
    assert info["complete"] is True and info["state"] == "complete"
    assert (info["size"], info["offset"], info["length"]) == (len(data), len(data), len(data))
    assert info["sha256"] == sha256(data)
    assert info["metadata"] == {"filename": "clip.mp4", "filetype": "video/mp4"}


def test_head_reports_offset_length_metadata_and_no_store(tus):
    metadata = f"name {b64('a b')},flag"
    url = new_upload(tus, 10, Upload_Metadata=metadata)
    patch(tus, url, 0, b"abc")
    head = tus.head(url)
    assert head.status_code == 200
    assert head.headers["upload-offset"] == "3" and head.headers["upload-length"] == "10"
    assert head.headers["upload-metadata"] == metadata
    assert head.headers["cache-control"] == "no-store"
    assert "upload-defer-length" not in head.headers


def test_absolute_location_by_config(tus, emulator):
    emulator.config.tus.absolute_location = True
    url = new_upload(tus, 3)
    assert url.startswith(f"{emulator.url}/files/")
    assert patch(tus, url, 0, b"abc").status_code == 204


def test_collection_without_trailing_slash_and_moved_path(tus, emulator):
    assert tus.post("/files", headers={"Upload-Length": "1"}).status_code == 201
    emulator.config.tus.path = "/uploads/tus/"
    url = tus.post("/uploads/tus/", headers={"Upload-Length": "1"}).headers["location"]
    assert url.startswith("/uploads/tus/") and patch(tus, url, 0, b"x").status_code == 204
    assert tus.post("/files/", headers={"Upload-Length": "1"}).status_code == 404


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ("filename d29ybGQ=", {"filename": "world"}),
        ("a ,b", {"a": None, "b": None}),
        ("k1 dg== , k2", {"k1": "v", "k2": None}),
        (f"utf {b64('été')}", {"utf": "été"}),
    ],
)
def test_metadata_parsing(tus, anon, metadata, expected):
    url = new_upload(tus, 1, Upload_Metadata=metadata)
    assert inspect(anon, url)["metadata"] == expected


@pytest.mark.parametrize("metadata", ["k1 dg==,k1 dg==", "k1 !!!", "k1 dg== extra", ",", "k1 dg==,"])
def test_bad_metadata_is_400(tus, metadata):
    response = create(tus, 1, Upload_Metadata=metadata)
    assert response.status_code == 400 and "Upload-Metadata" in response.text


def test_empty_metadata_is_accepted_and_counted(tus, anon):
    url = new_upload(tus, 1, Upload_Metadata="")
    assert inspect(anon, url)["metadata"] == {}
    assert "upload-metadata" not in tus.head(url).headers
    assert anon.get("/_emulator/stats").json()["tus_empty_metadata"] == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 400),  # neither length nor deferral
        ({"Upload-Length": "-1"}, 400),
        ({"Upload-Length": "ten"}, 400),
        ({"Upload-Length": "5", "Upload-Defer-Length": "1"}, 400),
        ({"Upload-Defer-Length": "2"}, 400),
    ],
)
def test_creation_refusals(tus, headers, status):
    assert tus.post("/files/", headers=headers).status_code == status


def test_max_size_413_on_creation_and_deferred_length(tus, emulator):
    emulator.config.tus.max_size = 100
    assert create(tus, 101).status_code == 413
    url = tus.post("/files/", headers={"Upload-Defer-Length": "1"}).headers["location"]
    assert patch(tus, url, 0, b"", Upload_Length="101").status_code == 413
    # Still deferred, its bytes may not pass Tus-Max-Size either.
    assert patch(tus, url, 0, b"x" * 101).status_code == 413
    assert patch(tus, url, 0, b"x" * 100).status_code == 204


def test_zero_length_upload_is_complete_at_once(tus, anon):
    url = new_upload(tus, 0)
    info = inspect(anon, url)
    assert info["complete"] is True and info["sha256"] == sha256(b"")
    assert "upload-expires" not in tus.head(url).headers


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD", "PATCH", "DELETE"])
def test_version_checked_on_every_request_but_options(emulator, tus, method):
    url = new_upload(tus, 3)
    full = f"{emulator.url}{url}"
    for headers in ({}, {"Tus-Resumable": "0.2.2"}):
        response = httpx.request(method, full, headers={"Content-Type": OCTETS, "Upload-Offset": "0", **headers})
        if method == "OPTIONS":
            assert response.status_code == 204
        else:
            assert response.status_code == 412 and response.headers["tus-version"] == "1.0.0"
    creation = httpx.post(f"{emulator.url}/files/", headers={"Upload-Length": "1"})
    assert creation.status_code == 412 and creation.headers["tus-version"] == "1.0.0"


def test_patch_needs_the_offset_content_type(tus):
    url = new_upload(tus, 3)
    wrong = {"Upload-Offset": "0", "Content-Type": "application/octet-stream"}
    response = tus.patch(url, content=b"abc", headers=wrong)
    assert response.status_code == 415
    assert tus.patch(url, content=b"abc", headers={"Content-Type": OCTETS}).status_code == 400  # no Upload-Offset
    assert tus.head(url).headers["upload-offset"] == "0"


def test_offset_mismatch_409_writes_nothing(tus, anon):
    url = new_upload(tus, 6)
    patch(tus, url, 0, b"abc")
    for offset in (0, 2, 4):
        response = patch(tus, url, offset, b"xyz")
        assert response.status_code == 409
    assert tus.head(url).headers["upload-offset"] == "3"
    assert patch(tus, url, 3, b"def").status_code == 204
    assert inspect(anon, url)["sha256"] == sha256(b"abcdef")


def test_past_the_length_413_writes_nothing(tus, anon):
    url = new_upload(tus, 4)
    assert patch(tus, url, 0, b"abcde").status_code == 413
    assert tus.head(url).headers["upload-offset"] == "0"
    # Without a Content-Length (chunked), found while reading: the chunk is cut off again.
    response = tus.patch(url, content=iter([b"ab", b"cde"]), headers={"Upload-Offset": "0", "Content-Type": OCTETS})
    assert response.status_code == 413
    assert inspect(anon, url)["offset"] == 0


def test_max_chunk_bytes_413(tus, emulator):
    emulator.config.tus.max_chunk_bytes = 4
    url = new_upload(tus, 10)
    assert patch(tus, url, 0, b"abcde").status_code == 413
    assert patch(tus, url, 0, b"abcd").status_code == 204


def test_unknown_upload_404_without_offset(tus):
    head = tus.head("/files/nosuchupload")
    assert head.status_code == 404 and "upload-offset" not in head.headers
    assert patch(tus, "/files/nosuchupload", 0, b"a").status_code == 404


def test_broken_body_keeps_its_bytes_and_resume_is_non_aligned(tus, anon, emulator):
    data = os.urandom(10_000)
    url = new_upload(tus, len(data))
    sock = raw_patch(emulator.url, url, 0, len(data), data[:3_333])
    wait_for(lambda: inspect(anon, url)["patching"])
    sock.close()
    info = wait_for(lambda: (i := inspect(anon, url))["kept_from_broken"] and not i["patching"] and i)
    assert info["offset"] == 3_333 and info["kept_from_broken"] == 3_333
    offset = int(tus.head(url).headers["upload-offset"])
    assert offset == 3_333
    assert patch(tus, url, offset, data[offset:]).status_code == 204
    assert inspect(anon, url)["sha256"] == sha256(data)
    assert anon.get("/_emulator/stats").json()["tus_broken_bodies"] == 1


def test_broken_body_from_a_client_generator(tus, anon):
    data = os.urandom(64 * 1024)
    url = new_upload(tus, 2 * len(data))

    def body():
        yield data
        raise OSError("source went away")

    with pytest.raises(OSError):
        tus.patch(url, content=body(), headers={"Upload-Offset": "0", "Content-Type": OCTETS})
    info = wait_for(lambda: (i := inspect(anon, url))["kept_from_broken"] and not i["patching"] and i)
    assert info["offset"] == len(data) == int(tus.head(url).headers["upload-offset"])


def test_concurrent_patch_is_423_locked(tus, anon, emulator):
    url = new_upload(tus, 10)
    sock = raw_patch(emulator.url, url, 0, 10, b"abc")
    try:
        wait_for(lambda: inspect(anon, url)["patching"])
        assert patch(tus, url, 0, b"0123456789").status_code == 423
        assert tus.delete(url).status_code == 423
        assert tus.head(url).headers["upload-offset"] == "0"
        sock.sendall(b"defghij")
        assert read_status(sock) == 204
    finally:
        sock.close()
    info = inspect(anon, url)
    assert info["sha256"] == sha256(b"abcdefghij")
    assert anon.get("/_emulator/stats").json()["tus_locked"] == 2


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_checksum_verified(tus, anon, algorithm):
    url = new_upload(tus, 6)
    good = base64.b64encode(hashlib.new(algorithm, b"abc").digest()).decode()
    assert patch(tus, url, 0, b"abc", Upload_Checksum=f"{algorithm} {good}").status_code == 204
    bad = base64.b64encode(hashlib.new(algorithm, b"xyz").digest()).decode()
    response = patch(tus, url, 3, b"def", Upload_Checksum=f"{algorithm} {bad}")
    assert response.status_code == 460
    assert tus.head(url).headers["upload-offset"] == "3"  # the chunk was discarded
    assert anon.get("/_emulator/stats").json()["tus_checksum_mismatches"] == 1


@pytest.mark.parametrize("header", ["sha512 AAAA", "crc32 AAAA", "sha1", "sha1 not-base64!"])
def test_checksum_unknown_algorithm_or_malformed_is_400(tus, header):
    url = new_upload(tus, 3)
    assert patch(tus, url, 0, b"abc", Upload_Checksum=header).status_code == 400
    assert tus.head(url).headers["upload-offset"] == "0"


def test_creation_with_upload(tus, anon):
    data = b"hello world"
    response = tus.post("/files/", content=data[:5],
                        headers={"Upload-Length": str(len(data)), "Content-Type": OCTETS})
    assert response.status_code == 201 and response.headers["upload-offset"] == "5"
    url = response.headers["location"]
    assert patch(tus, url, 5, data[5:]).status_code == 204
    assert inspect(anon, url)["sha256"] == sha256(data)
    bad_type = tus.post("/files/", content=b"abc", headers={"Upload-Length": "3", "Content-Type": "text/plain"})
    assert bad_type.status_code == 415


def test_creation_with_upload_checksum_mismatch_keeps_the_empty_upload(tus):
    digest = base64.b64encode(hashlib.sha1(b"nope").digest()).decode()
    response = tus.post("/files/", content=b"abc",
                        headers={"Upload-Length": "3", "Content-Type": OCTETS, "Upload-Checksum": f"sha1 {digest}"})
    assert response.status_code == 460
    assert tus.head(response.headers["location"]).headers["upload-offset"] == "0"


def test_deferred_length(tus, anon):
    response = tus.post("/files/", headers={"Upload-Defer-Length": "1"})
    url = response.headers["location"]
    head = tus.head(url)
    assert head.headers["upload-defer-length"] == "1" and "upload-length" not in head.headers
    assert patch(tus, url, 0, b"abc").status_code == 204
    assert patch(tus, url, 3, b"", Upload_Length="2").status_code == 400  # below what was received
    assert patch(tus, url, 3, b"de", Upload_Length="5").status_code == 204
    assert tus.head(url).headers["upload-length"] == "5"
    assert patch(tus, url, 5, b"", Upload_Length="6").status_code == 400  # set once
    info = inspect(anon, url)
    assert info["complete"] is True and info["sha256"] == sha256(b"abcde")


def test_expiry_410_with_the_emulator_clock(tus, anon, emulator, clock):
    emulator.config.tus.expiry_secs = 60
    response = create(tus, 6)
    url = response.headers["location"]
    expires = parsedate_to_datetime(response.headers["upload-expires"]).timestamp()
    created = inspect(anon, url)["created_at"]
    assert expires == pytest.approx(created + 60, abs=1)
    assert "upload-expires" in patch(tus, url, 0, b"abc").headers
    clock.advance(59)
    assert tus.head(url).status_code == 200
    clock.advance(2)
    head = tus.head(url)
    assert head.status_code == 410 and "upload-offset" not in head.headers
    assert patch(tus, url, 3, b"def").status_code == 410
    info = inspect(anon, url)
    assert info["expired"] is True and info["state"] == "expired"


def test_finished_uploads_do_not_expire(tus, emulator, clock):
    emulator.config.tus.expiry_secs = 60
    url = new_upload(tus, 3)
    patch(tus, url, 0, b"abc")
    clock.advance(3600)
    assert tus.head(url).status_code == 200


def test_termination(tus, anon, emulator):
    url = new_upload(tus, 6)
    patch(tus, url, 0, b"abc")
    assert tus.delete(url).status_code == 204
    assert tus.head(url).status_code == 404
    assert patch(tus, url, 3, b"def").status_code == 404
    assert tus.delete(url).status_code == 404
    info = inspect(anon, url)
    assert info["terminated"] is True and info["state"] == "terminated" and info["size"] == 0
    data_dir = emulator.config.data_dir
    assert not list((data_dir / "tus").glob(f"{upload_id(url)}*"))


def test_concatenation_byte_exact(tus, anon, emulator):
    pieces = [os.urandom(5_000), os.urandom(1), os.urandom(7_777)]
    urls = []
    for piece in pieces:
        response = tus.post("/files/", headers={"Upload-Length": str(len(piece)), "Upload-Concat": "partial"})
        assert response.status_code == 201
        urls.append(response.headers["location"])
        assert tus.head(urls[-1]).headers["upload-concat"] == "partial"
    for url, piece in zip(urls, pieces, strict=True):
        assert patch(tus, url, 0, piece).status_code == 204
    # Relative and absolute URLs both name a part.
    named = [urls[0], f"{emulator.url}{urls[1]}", urls[2]]
    concat = "final;" + " ".join(named)
    response = tus.post("/files/", headers={"Upload-Concat": concat, "Upload-Metadata": f"name {b64('joined')}"})
    assert response.status_code == 201
    final = response.headers["location"]
    head = tus.head(final)
    whole = b"".join(pieces)
    assert head.headers["upload-offset"] == head.headers["upload-length"] == str(len(whole))
    assert head.headers["upload-concat"] == concat
    info = inspect(anon, final)
    assert info["concat"] == "final" and info["parts"] == [upload_id(u) for u in urls]
    assert info["sha256"] == sha256(whole) and info["metadata"] == {"name": "joined"}
    assert patch(tus, final, len(whole), b"x").status_code == 403
    assert anon.get("/_emulator/stats").json()["tus_concatenated"] == 1


def test_concatenation_refusals(tus):
    plain = new_upload(tus, 1)
    patch(tus, plain, 0, b"a")
    unfinished = tus.post("/files/", headers={"Upload-Length": "2", "Upload-Concat": "partial"}).headers["location"]
    for concat in (f"final;{plain}", f"final;{unfinished}", "final;/files/nosuch", "final;", "parts"):
        assert tus.post("/files/", headers={"Upload-Concat": concat}).status_code == 400
    with_length = tus.post("/files/", headers={"Upload-Concat": f"final;{unfinished}", "Upload-Length": "2"})
    assert with_length.status_code == 400


@pytest.mark.parametrize(
    ("off", "request_kwargs", "status"),
    [
        ("termination", {"method": "DELETE"}, 405),
        ("creation-defer-length", {"method": "POST", "headers": {"Upload-Defer-Length": "1"}}, 400),
        ("concatenation", {"method": "POST", "headers": {"Upload-Concat": "partial", "Upload-Length": "1"}}, 400),
        ("creation-with-upload", {"method": "POST", "content": b"a",
                                  "headers": {"Upload-Length": "1", "Content-Type": OCTETS}}, 400),
    ],
)
def test_extensions_switched_off(tus, emulator, off, request_kwargs, status):
    url = new_upload(tus, 1)
    emulator.config.tus.extensions = [e for e in ALL_EXTENSIONS.split(",") if e != off]
    assert off not in tus.options("/files/").headers["tus-extension"].split(",")
    method = request_kwargs.pop("method")
    target = url if method == "DELETE" else "/files/"
    assert tus.request(method, target, **request_kwargs).status_code == status


def test_without_checksum_and_expiration_the_headers_go(tus, anon, emulator):
    emulator.config.tus.extensions = ["creation"]
    options = tus.options("/files/")
    assert options.headers["tus-extension"] == "creation" and "tus-checksum-algorithm" not in options.headers
    response = create(tus, 3)
    assert "upload-expires" not in response.headers
    url = response.headers["location"]
    # A server without the checksum extension ignores the header (counted).
    assert patch(tus, url, 0, b"abc", Upload_Checksum="sha1 AAAA").status_code == 204
    assert anon.get("/_emulator/stats").json()["tus_checksums_ignored"] == 1
    emulator.config.tus.extensions = []
    assert "tus-extension" not in tus.options("/files/").headers
    assert create(tus, 1).status_code == 405


def test_method_override(tus, anon):
    url = new_upload(tus, 3)
    response = tus.post(url, content=b"abc", headers={"X-HTTP-Method-Override": "PATCH", "Upload-Offset": "0",
                                                      "Content-Type": OCTETS})
    assert response.status_code == 204 and response.headers["upload-offset"] == "3"
    assert tus.post(url, headers={"X-HTTP-Method-Override": "DELETE"}).status_code == 204
    assert inspect(anon, url)["terminated"] is True


def test_other_methods_405(tus):
    url = new_upload(tus, 1)
    assert tus.get(url).status_code == 405
    assert tus.put("/files/").status_code == 405


def test_concatenation_over_max_size_is_413(tus, emulator):
    emulator.config.tus.max_size = 5
    urls = []
    for _ in range(2):
        url = tus.post("/files/", headers={"Upload-Length": "3", "Upload-Concat": "partial"}).headers["location"]
        assert patch(tus, url, 0, b"abc").status_code == 204
        urls.append(url)
    assert tus.post("/files/", headers={"Upload-Concat": "final;" + " ".join(urls)}).status_code == 413
