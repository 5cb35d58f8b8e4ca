"""``TusUploadStore``'s hooks for platforms built on tus: on_complete, chunk_rule, keep_broken_bodies, a per-upload
expiry and ``fill`` (the generic server uses none of them; Vimeo and Cloudflare Stream do, tested through HTTP in
their own directories)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.requests import ClientDisconnect

from airflow_provider_chunkup.emulators.core.storage import Storage
from airflow_provider_chunkup.emulators.tus import TusEmulatorConfig
from airflow_provider_chunkup.emulators.tus.headers import TusError
from airflow_provider_chunkup.emulators.tus.uploads import TusUpload, TusUploadStore


async def body(*pieces: bytes, broken: bool = False) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece
    if broken:
        raise ClientDisconnect()


def store(tmp_path: Path, **hooks) -> TusUploadStore:
    return TusUploadStore(Storage(tmp_path), lambda: TusEmulatorConfig(), **hooks)


async def test_on_complete_runs_once_when_the_last_byte_arrives(tmp_path):
    done: list[TusUpload] = []
    uploads = store(tmp_path, on_complete=done.append)
    upload = uploads.create(6, {}, None)
    uploads.lock(upload)
    await uploads.write(upload, body(b"abc"), None)
    assert done == [] and upload.completed_at is None
    uploads.lock(upload)
    await uploads.write(upload, body(b"def"), None)
    assert done == [upload] and upload.completed_at is not None
    assert upload.sha256.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()


async def test_chunk_rule_refuses_before_and_after_reading(tmp_path):
    seen: list[tuple[int, int]] = []

    def rule(upload: TusUpload, start: int, size: int) -> None:
        seen.append((start, size))
        if size % 2:
            raise TusError(400, "odd chunk")

    uploads = store(tmp_path, chunk_rule=rule)
    upload = uploads.create(10, {}, None)
    with pytest.raises(TusError):
        uploads.check_chunk(upload, 0, 3)
    uploads.lock(upload)
    with pytest.raises(TusError, match="odd chunk"):
        await uploads.write(upload, body(b"ab", b"c"), None)
    assert upload.offset == 0 and upload.path.stat().st_size == 0 and not upload.patching
    uploads.lock(upload)
    assert await uploads.write(upload, body(b"abcd"), None) == 4
    assert seen == [(0, 3), (0, 3), (0, 4)]


@pytest.mark.parametrize(("keep", "offset"), [(True, 5), (False, 0)])
async def test_broken_body_kept_or_not(tmp_path, keep, offset):
    uploads = store(tmp_path, keep_broken_bodies=keep)
    upload = uploads.create(10, {}, None)
    uploads.lock(upload)
    with pytest.raises(ClientDisconnect):
        await uploads.write(upload, body(b"abcde", broken=True), None)
    assert upload.offset == offset and upload.path.stat().st_size == offset
    counted = "tus_broken_bodies" if keep else "tus_broken_bodies_discarded"
    assert uploads.counts[counted] == 1


def test_a_per_upload_expiry_wins_over_the_lifetime(tmp_path):
    uploads = store(tmp_path)
    upload = uploads.create(10, {}, None)
    assert uploads.expires_at(upload) == pytest.approx(upload.created_at + 86400)
    upload.expires = upload.created_at + 10 * 86400
    assert uploads.expires_at(upload) == upload.expires
    upload.expires = time.time() - 1
    assert uploads.expired(upload)


async def test_fill_takes_a_whole_file(tmp_path):
    done: list[TusUpload] = []
    uploads = store(tmp_path, on_complete=done.append)
    source = tmp_path / "received.bin"
    source.write_bytes(b"x" * 3000)
    upload = uploads.create(3000, {}, None)
    await uploads.fill(upload, source)
    assert upload.complete and done == [upload] and upload.path.read_bytes() == b"x" * 3000
    assert upload.sha256.hexdigest() == hashlib.sha256(b"x" * 3000).hexdigest()
