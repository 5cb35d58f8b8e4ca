"""The Content-Range/upload_id protocol against the emulator over real HTTP."""

import hashlib

import httpx
import pytest

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, RemoteRejected, UploadExpired
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.content_range import ContentRangeUpload
from airflow_provider_chunkup.protocols.session import UploadSpec
from airflow_provider_chunkup.protocols.transfer import finish, open_upload, send_segments, upload
from airflow_provider_chunkup.sources import ChunkSource

TOKEN = BearerAuth("chunkup-content-range-token")
MB = 1000 * 1000
CHUNK_ROUTE = "POST /api/v2/media/upload/chunk/"


def digests(path):
    data = path.read_bytes()
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def received(emulator, upload_id):
    return httpx.get(f"{emulator.url}/_emulator/content-range/uploads/{upload_id}").json()


def chunk_stats(emulator):
    return httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"].get(CHUNK_ROUTE, {"requests": 0,
                                                                                          "body_bytes": 0})


def spec(path, media_type):
    return UploadSpec(total_bytes=path.stat().st_size, media_type=media_type, source=str(path))


async def test_image_byte_exact_in_204800_byte_chunks(emulator, media_file):
    path = media_file(5 * MB, "photo.png")
    async with ContentRangeUpload(auth=TOKEN, base_url=emulator.url) as cr:
        result = await upload(cr, ChunkSource(path), spec(path, "image/png"))
    md5, sha = digests(path)
    got = received(emulator, result.details["upload_id"])
    assert got["complete"] and got["md5"] == md5 == result.md5 and result.sha256 == sha
    assert got["field"] == "image" and got["chunks"] == 25
    assert result.details["type"] == "image" and result.details["url"]
    assert result.processing is None  # nothing to process


async def test_50_mb_document_byte_exact(emulator, media_file):
    path = media_file(50 * MB, "brochure.pdf")
    async with ContentRangeUpload(auth=TOKEN, base_url=emulator.url) as cr:
        result = await upload(cr, ChunkSource(path), spec(path, "application/pdf"))
    got = received(emulator, result.details["upload_id"])
    assert got["field"] == "document" and got["chunks"] == 245
    assert got["sha256"] == digests(path)[1] == result.sha256
    assert result.details["type"] == "doc"


async def test_md5_mismatch_names_ours(emulator, media_file):
    path = media_file(300_000, "brochure.pdf")
    source = ChunkSource(path)
    async with ContentRangeUpload(auth=TOKEN, base_url=emulator.url) as cr:
        session = await open_upload(cr, spec(path, "application/pdf"), source)
        await send_segments(cr, session, source)
        session.digests["md5"] = "0" * 32
        with pytest.raises(RemoteRejected, match=r"md5 checksum does not match.*0{32}|0{32}.*md5 checksum does not"):
            await finish(cr, session, source)


async def test_expired_upload_is_a_clear_error(emulator, media_file):
    path = media_file(500_000, "brochure.pdf")
    source = ChunkSource(path)
    async with ContentRangeUpload(auth=TOKEN, base_url=emulator.url) as cr:
        session = await open_upload(cr, spec(path, "application/pdf"), source)
        httpx.post(f"{emulator.url}/_emulator/content-range/uploads/{session.media_id}/expire").raise_for_status()
        with pytest.raises(UploadExpired, match="restart_expired"):
            await send_segments(cr, session, source)


async def test_unknown_upload_and_bad_token(emulator, media_file):
    path = media_file(300_000, "brochure.pdf")
    async with ContentRangeUpload(auth=TOKEN, base_url=emulator.url) as cr:
        session = await cr.init(spec(path, "application/pdf"))
        session.media_id = "0" * 32
        with pytest.raises(RemoteRejected, match=r"404.*does not know this upload_id"):
            await send_segments(cr, session, ChunkSource(path), indexes=[0])
    async with ContentRangeUpload(auth=BearerAuth("wrong"), base_url=emulator.url) as cr:
        with pytest.raises(AuthenticationFailed):
            await upload(cr, ChunkSource(path), spec(path, "application/pdf"))


async def test_limits_fail_before_any_request(emulator, media_file):
    big_image = media_file(6 * MB, "photo.png")
    async with ContentRangeUpload(auth=TOKEN, base_url=emulator.url) as cr:
        with pytest.raises(ConfigurationError, match="image uploads up to 5242880"):
            await cr.init(spec(big_image, "image/png"))
        with pytest.raises(ConfigurationError, match="not a kind"):
            await cr.init(UploadSpec(total_bytes=10, media_category="video"))
    assert chunk_stats(emulator)["requests"] == 0


async def test_stock_django_chunked_upload(emulator, media_file):
    emulator.config.content_range.success_status = 200  # stock django-chunked-upload: 200, no chunk limit
    emulator.config.content_range.max_chunk_bytes = None
    path = media_file(1_000_000, "data.bin")
    async with ContentRangeUpload(auth=TOKEN, base_url=emulator.url, file_field="file",
                                  max_chunk_bytes=10**9, default_chunk_bytes=256 * 1024) as cr:
        result = await upload(cr, ChunkSource(path), UploadSpec(total_bytes=1_000_000, media_category="file",
                                                                source=str(path)))
    got = received(emulator, result.details["upload_id"])
    assert got["field"] == "file" and got["md5"] == digests(path)[0] and got["chunks"] == 4
