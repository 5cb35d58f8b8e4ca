import hashlib
import os

import fsspec
import pytest

from airflow_provider_chunkup.errors import ConfigurationError, SourceError
from airflow_provider_chunkup.sources import ChunkSource, StreamingDigest, file_digest


@pytest.fixture
def sample(tmp_path):
    data = os.urandom(1_000_003)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    return path, data


def test_local_path_size_and_exact_ranges(sample):
    path, data = sample
    with ChunkSource(path) as src:
        assert src.size == len(data)
        assert src.read(0, 10) == data[:10]
        assert src.read(999_999, 100) == data[999_999:]
        assert src.read(len(data), 5) == b""


def test_file_url_and_memory_url(sample):
    path, data = sample
    assert ChunkSource(f"file://{path}").read(5, 7) == data[5:12]
    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/clip.bin", data)
    src = ChunkSource("memory://bucket/clip.bin")
    assert src.size == len(data)
    assert src.read(100, 50) == data[100:150]


def test_object_with_fs_and_path_is_accepted(sample):
    path, data = sample

    class StoragePathLike:  # what ObjectStoragePath/UPath exposes
        fs = fsspec.filesystem("file")

        def __init__(self, p):
            self.path = str(p)

        def __str__(self):
            return f"file://{self.path}"

    src = ChunkSource(StoragePathLike(path))
    assert src.read(1, 3) == data[1:4]
    assert src.url == f"file://{path}"


def test_object_storage_path(sample):
    from airflow.sdk import ObjectStoragePath

    path, data = sample
    src = ChunkSource(ObjectStoragePath(f"file://{path}"))
    assert src.size == len(data)
    assert src.read(10, 20) == data[10:30]


def test_missing_source_names_the_cause(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        _ = ChunkSource(tmp_path / "nope.mp4").size


def test_directory_is_rejected(tmp_path):
    with pytest.raises(SourceError, match="directory"):
        _ = ChunkSource(tmp_path).size


def test_unknown_scheme_names_the_fix():
    with pytest.raises(ConfigurationError, match="fsspec implementation"):
        ChunkSource("nosuchscheme://bucket/key")


def test_file_shrinking_during_upload_is_detected(sample):
    path, data = sample
    src = ChunkSource(path)
    assert src.size == len(data)
    with open(path, "r+b") as f:
        f.truncate(500_000)
    with pytest.raises(SourceError, match="changed while it was being uploaded"):
        src.read(400_000, 200_000)


def test_streaming_digest_matches_hashlib(sample):
    path, data = sample
    digest = StreamingDigest(("sha256", "md5"))
    with ChunkSource(path) as src:
        for offset in range(0, src.size, 65536):
            digest.update(src.read(offset, 65536))
    assert digest.hexdigests() == {"sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()}
    assert digest.bytes == len(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()


async def test_async_read(sample):
    path, data = sample
    with ChunkSource(path) as src:
        assert await src.aread(3, 4) == data[3:7]


def test_read_into_reuses_the_buffer(sample):
    path, data = sample
    buffer = bytearray(4096)
    with ChunkSource(path) as src:
        view = src.read_into(10, memoryview(buffer))
        assert bytes(view) == data[10:4106]
        tail = src.read_into(len(data) - 100, memoryview(buffer))
        assert bytes(tail) == data[-100:] and len(tail) == 100


def test_read_into_for_fsspec_sources(sample):
    _, data = sample
    fsspec.filesystem("memory").pipe("/bucket/into.bin", data)
    buffer = bytearray(1000)
    view = ChunkSource("memory://bucket/into.bin").read_into(5, memoryview(buffer))
    assert bytes(view) == data[5:1005]


def test_urls_with_credentials_are_redacted_for_display():
    from airflow_provider_chunkup.sources import describe_source, redact_url, source_location, url_secrets

    signed = "https://bucket.example/clip.mp4?X-Amz-Signature=s3cr3t&X-Amz-Expires=60"
    assert redact_url(signed) == "https://bucket.example/clip.mp4?***"
    assert redact_url("https://reader:hunter2@media.example:8443/a.mp4") == "https://reader:***@media.example:8443/a.mp4"
    assert describe_source("s3://aws_media@bucket/key.mp4") == "s3://aws_media@bucket/key.mp4"  # a conn id, no secret
    assert describe_source("/data/clip.mp4") == "/data/clip.mp4"
    assert source_location(signed) == signed  # what a later task opens again
    assert url_secrets("https://reader:hunter2@h/a?sig=1") == ["hunter2", "sig=1"]
    with pytest.raises(SourceError) as e:
        ChunkSource("https://reader:hunter2@127.0.0.1:9/missing.mp4?sig=s3cr3t").size  # noqa: B018
    assert "hunter2" not in str(e.value) and "s3cr3t" not in str(e.value)
