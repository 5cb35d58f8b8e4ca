"""The Content-Range + upload_id API (SelfCommunity on django-chunked-upload) over real HTTP:
whole uploads, every refusal with its status and body, resume, expiry, completion, auth."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest

from ..support import (
    CR_BEARER,
    CR_CHUNK,
    CR_CHUNK_SIZE,
    CR_COMPLETE,
    assert_detail,
    assert_django_404,
    cr_chunk,
    cr_complete,
    cr_upload,
    inspect_cr,
    md5_hex,
    random_bytes,
    sha256,
)

MIB = 1024 * 1024
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
MEDIA_KEYS = {
    "id", "added_at", "type", "title", "description", "url", "image", "image_width", "image_height", "order", "embed",
}  # fmt: skip


def png_bytes(width: int, height: int, size: int) -> bytes:
    """A PNG signature and IHDR (what ``sniff`` reads), padded with random bytes to ``size``."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    head = b"\x89PNG\r\n\x1a\n" + chunk
    return head + random_bytes(size - len(head))


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- whole uploads --------------------------------------------------------------------------------


def test_image_5mb_in_204800_byte_chunks(cr, anon, emulator):
    data = png_bytes(640, 480, 5 * MIB)  # exactly SelfCommunity's image limit
    upload_id = cr_upload(cr, data, field="image", filename="holiday.png")
    assert UPLOAD_ID.match(upload_id)
    info = inspect_cr(anon, upload_id)
    assert info["offset"] == info["total"] == len(data)
    assert info["chunks"] == 26 and info["field"] == "image" and info["filename"] == "holiday.png"
    assert info["md5"] == md5_hex(data) and info["sha256"] == sha256(data)
    assert info["complete"] is False

    response = cr_complete(cr, upload_id, md5_hex(data))
    assert response.status_code == 201, response.text
    media = response.json()
    assert set(media) == MEDIA_KEYS
    assert media["type"] == "image" and media["title"] == "holiday.png"
    assert (media["image_width"], media["image_height"]) == (640, 480)
    assert media["description"] == "" and media["order"] == 0 and media["embed"] is None
    assert isinstance(media["id"], int) and parse_iso(media["added_at"]).tzinfo is not None
    assert media["url"] == f"{emulator.url}/_emulator/content-range/media/{media['id']}/file"
    assert media["image"] == media["url"]
    download = anon.get(media["url"])
    assert download.content == data and download.headers["content-type"] == "image/png"
    info = inspect_cr(anon, upload_id)
    assert info["complete"] is True and info["status"] == "complete" and info["media_id"] == media["id"]


def test_document_50mb_in_204800_byte_chunks(cr, anon):
    """50 MiB (the document limit), 256 requests: byte-exact, and fast (well under 5 s here)."""
    data = random_bytes(50 * MIB)
    upload_id = cr_upload(cr, data, field="document", filename="report.pdf")
    response = cr_complete(cr, upload_id, md5_hex(data), type="doc")
    assert response.status_code == 201, response.text
    media = response.json()
    assert media["type"] == "doc" and media["title"] == "report.pdf"
    assert media["image_width"] is None and media["image_height"] is None
    assert sha256(anon.get(media["url"]).content) == sha256(data)
    assert inspect_cr(anon, upload_id)["chunks"] == 256


def test_first_response_and_expiry_time(cr, anon):
    response = cr_chunk(cr, b"abcd", "bytes 0-3/10")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"upload_id", "offset", "expires"} and body["offset"] == 4
    # Django's JSON encoder: milliseconds and a Z; one day after creation, not after this chunk.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["expires"])
    info = inspect_cr(anon, body["upload_id"])
    assert parse_iso(body["expires"]).timestamp() == pytest.approx(info["created_at"] + 86400, abs=0.002)
    later = cr_chunk(cr, b"efghij", "bytes 4-9/10", body["upload_id"], expires="2000-01-01T00:00:00Z")
    assert later.json()["expires"] == body["expires"]  # ``expires`` is accepted and changes nothing


def test_stock_django_flavour(cr, anon, emulator):
    """django-chunked-upload defaults: ``file`` field, 200, no chunk limit, no header = the whole file."""
    config = emulator.config.content_range
    config.success_status = 200
    config.max_chunk_bytes = None
    data = random_bytes(3 * MIB)  # one request, past the in-memory size: spilled and appended off-loop
    response = cr_chunk(cr, data, None, field="file", filename="dir/../archive.bin")
    assert response.status_code == 200, response.text
    upload_id = response.json()["upload_id"]
    assert response.json()["offset"] == len(data)
    completed = cr_complete(cr, upload_id, md5_hex(data))
    assert completed.status_code == 200
    media = completed.json()
    assert media["type"] == "doc" and media["title"] == "archive.bin"
    assert inspect_cr(anon, upload_id)["sha256"] == sha256(data)


@pytest.mark.parametrize(("field", "kind"), [("image", "image"), ("document", "doc"), ("file", "doc")])
def test_media_type_defaults_to_the_chunk_field(cr, field, kind):
    upload_id = cr_upload(cr, b"0123456789", field=field)
    assert cr_complete(cr, upload_id, md5_hex(b"0123456789")).json()["type"] == kind


def test_type_eimage_and_complete_as_json_or_urlencoded(cr):
    first = cr_upload(cr, b"one")
    response = cr.post(CR_COMPLETE, json={"upload_id": first, "md5": md5_hex(b"one").upper(), "type": "eimage"})
    assert response.status_code == 201 and response.json()["type"] == "eimage"
    second = cr_upload(cr, b"two", field="document")
    response = cr.post(CR_COMPLETE, data={"upload_id": second, "md5": md5_hex(b"two")})
    assert response.status_code == 201 and response.json()["type"] == "doc"
    assert response.json()["id"] == 2


def test_image_field_wins_over_document(cr, anon):
    files = [("document", ("d.pdf", b"doc")), ("image", ("i.png", b"img")), ("other", ("o", b"ignored"))]
    response = cr.post(CR_CHUNK, files=files, headers={"Content-Range": "bytes 0-2/3"})
    assert response.status_code == 201
    info = inspect_cr(anon, response.json()["upload_id"])
    assert (info["field"], info["filename"], info["md5"]) == ("image", "i.png", md5_hex(b"img"))


# -- resume ---------------------------------------------------------------------------------------


def test_offset_mismatch_tells_the_server_offset_and_the_client_resumes(cr, anon):
    data = random_bytes(10 * 1000)
    upload_id = None
    for offset in range(0, 4000, 1000):
        response = cr_chunk(cr, data[offset : offset + 1000], f"bytes {offset}-{offset + 999}/10000", upload_id)
        upload_id = response.json()["upload_id"]
    # A client that lost track re-sends an old chunk: refused, and told where the server is.
    stale = cr_chunk(cr, data[1000:2000], "bytes 1000-1999/10000", upload_id)
    assert_detail(stale, 400, "Offsets do not match", offset=4000)
    # A chunk past the end is refused the same way.
    ahead = cr_chunk(cr, data[6000:7000], "bytes 6000-6999/10000", upload_id)
    assert_detail(ahead, 400, "Offsets do not match", offset=4000)
    cr_upload(cr, data, chunk_size=1000, upload_id=upload_id, start=stale.json()["offset"])
    assert cr_complete(cr, upload_id, md5_hex(data)).status_code == 201
    assert inspect_cr(anon, upload_id)["sha256"] == sha256(data)


def test_resume_after_a_lost_response_resends_nothing_the_server_had(cr, anon):
    """The response to chunk 4 is lost (the server stored it); the retry learns the offset and moves on."""
    data = random_bytes(6 * 1000)
    sent: list[httpx.Response] = []
    upload_id = None
    for offset in range(0, 3000, 1000):
        response = cr_chunk(cr, data[offset : offset + 1000], f"bytes {offset}-{offset + 999}/6000", upload_id)
        sent.append(response)
        upload_id = response.json()["upload_id"]
    anon.post("/_emulator/faults", json={"match": f"^POST {CR_CHUNK}$", "action": "drop", "when": "after"})
    with pytest.raises(httpx.RemoteProtocolError):
        cr_chunk(cr, data[3000:4000], "bytes 3000-3999/6000", upload_id)
    assert inspect_cr(anon, upload_id)["offset"] == 4000  # stored, though the client never heard
    retry = cr_chunk(cr, data[3000:4000], "bytes 3000-3999/6000", upload_id)
    assert_detail(retry, 400, "Offsets do not match", offset=4000)
    sent.append(retry)
    for offset in (4000, 5000):
        response = cr_chunk(cr, data[offset : offset + 1000], f"bytes {offset}-{offset + 999}/6000", upload_id)
        assert response.status_code == 201
        sent.append(response)
    assert cr_complete(cr, upload_id, md5_hex(data)).status_code == 201
    route = anon.get("/_emulator/stats").json()["routes"][f"POST {CR_CHUNK}"]
    assert route["statuses"] == {"201": 5, "dropped": 1, "400": 1}
    # Every byte of the file was accepted exactly once: 6 chunks, 6000 bytes, one upload.
    info = inspect_cr(anon, upload_id)
    assert (info["chunks"], info["offset"]) == (6, 6000)
    request_bytes = sum(int(r.request.headers["content-length"]) for r in sent)
    dropped_bytes = int(sent[-1].request.headers["content-length"])  # same shape as the dropped one
    assert route["body_bytes"] == request_bytes + dropped_bytes


@pytest.mark.parametrize("field", ["image", "file"])
def test_offset_probe_past_the_end_stores_nothing(cr, anon, field):
    """A one-byte chunk claimed past the end (any field) only draws the server's offset."""
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/9").json()["upload_id"]
    probe = cr_chunk(cr, b"\0", "bytes 10-10/9", upload_id, field=field)
    assert_detail(probe, 400, "Offsets do not match", offset=3)
    info = inspect_cr(anon, upload_id)
    assert (info["offset"], info["chunks"], info["md5"]) == (3, 1, md5_hex(b"abc"))


def test_concurrent_chunks_at_one_offset_one_wins(cr, anon, emulator):
    """Two requests race for offset 0 of an upload (large chunks: appended off the event loop)."""
    emulator.config.content_range.max_chunk_bytes = None
    data = random_bytes(4 * MIB)
    half = len(data) // 2
    upload_id = cr_chunk(cr, data[:1], f"bytes 0-0/{len(data)}").json()["upload_id"]

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=emulator.url, headers=CR_BEARER, timeout=30) as c:
            return cr_chunk(c, data[1:half], f"bytes 1-{half - 1}/{len(data)}", upload_id)

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(send, range(2)))
    assert sorted(r.status_code for r in responses) == [201, 400]
    loser = next(r for r in responses if r.status_code == 400)
    assert loser.json() == {"detail": "Offsets do not match", "offset": half}
    cr_upload(cr, data, chunk_size=MIB, upload_id=upload_id, start=half)
    assert inspect_cr(anon, upload_id)["sha256"] == sha256(data)


# -- chunk refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"files": {"video": ("v.mp4", b"abc")}},  # not one of file_fields
        {"files": {"image": (None, b"abc")}},  # no file name: Django puts it in POST, not FILES
        {"data": {"image": "abc"}},  # urlencoded: no files at all
        {"content": b"abc", "headers": {"Content-Type": "application/octet-stream"}},
    ],
    ids=["other-field", "no-filename", "urlencoded", "raw-body"],
)
def test_no_chunk_file(cr, kwargs):
    headers = {"Content-Range": "bytes 0-2/3", **kwargs.pop("headers", {})}
    assert_detail(cr.post(CR_CHUNK, headers=headers, **kwargs), 400, "No chunk file was submitted")


@pytest.mark.parametrize(
    "header",
    ["bytes 0-2/*", "bytes=0-2/3", "bytes 0-2", "bytes -2/3", "items 0-2/3", "bytes 0-2/3/4", "bytes 0-2/ 3"],
)
def test_malformed_content_range(cr, header):
    assert_detail(cr_chunk(cr, b"abc", header), 400, "Error in request headers")


def test_missing_header_refused_with_fail_if_no_header(cr, emulator):
    emulator.config.content_range.fail_if_no_header = True
    assert_detail(cr_chunk(cr, b"abc", None), 400, "Error in request headers")


def test_missing_header_on_a_later_chunk_is_an_offset_mismatch(cr):
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/6").json()["upload_id"]
    assert_detail(cr_chunk(cr, b"def", None, upload_id), 400, "Offsets do not match", offset=3)


def test_unknown_or_foreign_upload_id_is_djangos_html_404(cr, anon, emulator):
    assert_django_404(cr_chunk(cr, b"abc", "bytes 0-2/3", "0" * 32))
    emulator.config.content_range.bearer_tokens = {"chunkup-content-range-token", "someone-else"}
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/6").json()["upload_id"]
    other = {"Authorization": "Bearer someone-else"}
    response = anon.post(
        CR_CHUNK, files={"image": ("p.png", b"def")}, data={"upload_id": upload_id},
        headers={"Content-Range": "bytes 3-5/6", **other},
    )  # fmt: skip
    assert_django_404(response)  # uploads are per user, as django's get_queryset filters them
    assert_django_404(anon.post(CR_COMPLETE, data={"upload_id": upload_id, "md5": "x"}, headers=other))


def test_expired_upload_is_410(cr, anon):
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/6").json()["upload_id"]
    expired = anon.post(f"/_emulator/content-range/uploads/{upload_id}/expire")
    assert expired.status_code == 200 and expired.json()["expired"] is True
    assert_detail(cr_chunk(cr, b"def", "bytes 3-5/6", upload_id), 410, "Upload has expired")
    assert_detail(cr_complete(cr, upload_id, md5_hex(b"abc")), 410, "Upload has expired")


def test_expiration_counts_from_creation(cr, emulator):
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/6").json()["upload_id"]
    emulator.config.content_range.expiration_secs = 0  # live: the upload is now past its lifetime
    assert_detail(cr_chunk(cr, b"def", "bytes 3-5/6", upload_id), 410, "Upload has expired")


def test_chunk_after_complete_or_failed(cr):
    upload_id = cr_upload(cr, b"abcdef", chunk_size=3)
    assert cr_complete(cr, upload_id, md5_hex(b"abcdef")).status_code == 201
    again = cr_chunk(cr, b"g", "bytes 6-6/7", upload_id)
    assert_detail(again, 400, 'Upload has already been marked as "complete"')

    failed = cr_upload(cr, b"abcdef", chunk_size=3)
    assert_detail(cr_complete(cr, failed, md5_hex(b"wrong")), 400, "md5 checksum does not match")
    assert_detail(cr_chunk(cr, b"def", "bytes 3-5/6", failed), 400, 'Upload has already been marked as "failed"')


def test_max_bytes(cr, emulator):
    emulator.config.content_range.max_bytes = 100
    assert_detail(cr_chunk(cr, b"abc", "bytes 0-2/101"), 400, "Size of file exceeds the limit (100 bytes)")
    assert cr_chunk(cr, b"abc", "bytes 0-2/100").status_code == 201


@pytest.mark.parametrize(("field", "limit"), [("image", 5 * MIB), ("document", 50 * MIB)])
def test_size_limit_of_the_field_kind(cr, field, limit):
    over = cr_chunk(cr, b"abc", f"bytes 0-2/{limit + 1}", field=field)
    assert_detail(over, 400, f"Size of file exceeds the limit ({limit} bytes)")
    assert cr_chunk(cr, b"abc", f"bytes 0-2/{limit}", field=field).status_code == 201
    # ``file`` (stock django) has no limit by default.
    assert cr_chunk(cr, b"abc", f"bytes 0-2/{100 * limit}", field="file").status_code == 201


def test_file_size_must_match_the_header(cr):
    assert_detail(cr_chunk(cr, b"abcd", "bytes 0-2/10"), 400, "File size doesn't match headers")
    assert_detail(cr_chunk(cr, b"ab", "bytes 0-2/10"), 400, "File size doesn't match headers")
    assert_detail(cr_chunk(cr, b"", "bytes 0-2/10"), 400, "File size doesn't match headers")


def test_chunk_limit(cr, emulator):
    limit = CR_CHUNK_SIZE
    big = random_bytes(limit + 1)
    response = cr_chunk(cr, big, f"bytes 0-{limit}/{2 * limit}")
    assert_detail(response, 400, f"Size of chunk exceeds the limit ({limit} bytes)")
    emulator.config.content_range.max_chunk_bytes = 1000
    assert_detail(cr_chunk(cr, b"x" * 1001, "bytes 0-1000/5000"), 400, "Size of chunk exceeds the limit (1000 bytes)")


def test_total_must_stay_the_same(cr):
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/6").json()["upload_id"]
    response = cr_chunk(cr, b"def", "bytes 3-5/7", upload_id)
    assert_detail(response, 400, "Total size doesn't match the upload's (6 bytes)")


def test_chunk_may_not_end_past_the_total(cr):
    assert_detail(cr_chunk(cr, b"abc", "bytes 0-2/2"), 400, "Chunk ends past the end of the file")
    assert_detail(cr_chunk(cr, b"a", "bytes 0-0/0"), 400, "Chunk ends past the end of the file")


def test_chunk_field_must_stay_the_same(cr):
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/6", field="image").json()["upload_id"]
    response = cr_chunk(cr, b"def", "bytes 3-5/6", upload_id, field="document")
    assert_detail(response, 400, "The chunk must be in the 'image' field, as the upload's first chunk was")


def test_checks_run_in_djangos_order(cr, emulator):
    emulator.config.content_range.max_bytes = 5
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/5").json()["upload_id"]
    # No file beats everything after it, even an unknown upload_id.
    response = cr.post(CR_CHUNK, data={"upload_id": "nope"}, files={"x": ("x", b"1")})
    assert_detail(response, 400, "No chunk file was submitted")
    # An unknown upload beats a malformed header; a malformed header beats the size checks.
    assert_django_404(cr_chunk(cr, b"de", "garbage", "nope"))
    assert_detail(cr_chunk(cr, b"de", "garbage", upload_id), 400, "Error in request headers")
    # Limit before offset, offset before size, size before the chunk limit.
    assert_detail(cr_chunk(cr, b"de", "bytes 0-1/6", upload_id), 400, "Size of file exceeds the limit (5 bytes)")
    assert_detail(cr_chunk(cr, b"dex", "bytes 0-1/5", upload_id), 400, "Offsets do not match", offset=3)
    emulator.config.content_range.max_chunk_bytes = 1
    assert_detail(cr_chunk(cr, b"dex", "bytes 3-4/5", upload_id), 400, "File size doesn't match headers")
    assert_detail(cr_chunk(cr, b"de", "bytes 3-4/5", upload_id), 400, "Size of chunk exceeds the limit (1 bytes)")


def test_a_refused_first_chunk_creates_nothing(cr, anon):
    cr_chunk(cr, b"abcd", "bytes 0-2/10")
    cr_chunk(cr, b"abc", "bytes 1-3/10")
    assert anon.get("/_emulator/content-range/uploads").json() == []


def test_malformed_multipart_is_djangos_400_page(cr):
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    response = cr.post(CR_CHUNK, content=b"--b\r\nnot a header line\r\n\r\n", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html") and "Bad Request (400)" in response.text


def test_other_methods_get_405(cr):
    for method in ("GET", "PUT", "DELETE"):
        response = cr.request(method, CR_CHUNK)
        assert response.status_code == 405
        assert response.json() == {"detail": f'Method "{method}" not allowed.'}
        assert response.headers["allow"] == "POST, OPTIONS"


# -- complete -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fields", [{}, {"upload_id": "abc"}, {"md5": "abc"}, {"upload_id": "", "md5": "abc"}])
def test_complete_needs_upload_id_and_md5(cr, fields):
    response = cr.post(CR_COMPLETE, data=fields)
    assert_detail(response, 400, "Both 'upload_id' and 'md5' are required")


def test_complete_type_must_be_a_choice(cr):
    upload_id = cr_upload(cr, b"abc")
    response = cr_complete(cr, upload_id, md5_hex(b"abc"), type="video")
    assert response.status_code == 400
    assert response.json() == {"type": ['"video" is not a valid choice.']}


def test_complete_unknown_upload(cr):
    assert_django_404(cr_complete(cr, "f" * 32, md5_hex(b"")))


def test_complete_incomplete_upload(cr):
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/6").json()["upload_id"]
    assert_detail(cr_complete(cr, upload_id, md5_hex(b"abc")), 400, "Upload is incomplete", offset=3)


def test_md5_mismatch_leaks_no_digest_and_a_right_md5_still_completes(cr, anon):
    data = b"hello world"
    upload_id = cr_upload(cr, data)
    response = cr_complete(cr, upload_id, md5_hex(b"hello there"))
    assert_detail(response, 400, "md5 checksum does not match")
    assert md5_hex(data) not in response.text
    assert inspect_cr(anon, upload_id)["status"] == "failed"
    # As in django: a failed upload takes no chunks, but the complete call may be retried.
    assert cr_complete(cr, upload_id, md5_hex(data).upper()).status_code == 201


def test_complete_twice_is_refused(cr):
    upload_id = cr_upload(cr, b"abc")
    first = cr_complete(cr, upload_id, md5_hex(b"abc"))
    assert first.status_code == 201
    assert_detail(cr_complete(cr, upload_id, md5_hex(b"abc")), 400, "Upload has already been marked as complete")


# -- auth and status --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CR_CHUNK, CR_COMPLETE])
@pytest.mark.parametrize(
    ("authorization", "status", "detail"),
    [
        (None, 403, "Authentication credentials were not provided."),
        ("Basic Y2h1bmt1cDo=", 403, "Authentication credentials were not provided."),
        ("Bearer wrong-token", 401, "Invalid token."),
        ("Bearer chunkup-emulator-token", 401, "Invalid token."),  # X's token is not this API's
        ("Bearer", 401, "Invalid token header. No credentials provided."),
        ("Bearer a b", 401, "Invalid token header. Token string should not contain spaces."),
    ],
)
def test_auth(anon, path, authorization, status, detail):
    headers = {"Authorization": authorization} if authorization else {}
    response = anon.post(path, files={"image": ("p.png", b"abc")}, headers=headers)
    assert_detail(response, status, detail)
    assert ("www-authenticate" in response.headers) == (status == 401)


def test_success_status_200_or_201(cr, anon):
    assert cr_chunk(cr, b"abc", "bytes 0-2/6").status_code == 201
    assert anon.patch("/_emulator/config", json={"content_range": {"success_status": 200}}).status_code == 200
    upload_id = cr_upload(cr, b"abcdef", chunk_size=3, status=200)
    assert cr_complete(cr, upload_id, md5_hex(b"abcdef")).status_code == 200


def test_spilled_chunk_md5_matches(cr, emulator, anon):
    """A chunk bigger than the in-memory size, behind small ones: the running digests stay right."""
    emulator.config.content_range.max_chunk_bytes = None
    data = random_bytes(3 * MIB + 7)
    upload_id = cr_chunk(cr, data[:10], f"bytes 0-9/{len(data)}").json()["upload_id"]
    cr_upload(cr, data, chunk_size=2 * MIB, upload_id=upload_id, start=10)
    assert inspect_cr(anon, upload_id)["md5"] == hashlib.md5(data).hexdigest()
    assert cr_complete(cr, upload_id, md5_hex(data)).status_code == 201
