"""The same 1 GiB object, byte-exact, from each object store to the api.video emulator.

One file of random bytes is written once; each test puts it into one store with that store's own
client (s3rver for S3: it streams ranges from disk, where moto copies the whole object per GET),
uploads it from there through an Airflow connection in 32 MiB parts, and compares the sha256 the
emulator computed over what it stored. The object is deleted afterwards: the in-memory stores
would otherwise keep a GiB each.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import fsspec
import httpx
import pytest
from local_stores import AZURE_ACCOUNT, AZURE_KEY, S3RVER_KEY, range_http

from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.protocols.chunking import ShortTailPlan

pytestmark = pytest.mark.large

MiB = 1024 * 1024
SIZE = 1024 * MiB
PART = 32 * MiB


@pytest.fixture(scope="module")
def gib_file(tmp_path_factory) -> tuple[Path, str]:
    """1 GiB of random bytes on disk (written 16 MiB at a time) and its sha256."""
    path = tmp_path_factory.mktemp("large") / "feature.mp4"
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(SIZE // (16 * MiB)):
            piece = os.urandom(16 * MiB)
            digest.update(piece)
            f.write(piece)
    return path, digest.hexdigest()


@pytest.fixture
def upload_from(apivideo_connection, emulator) -> Callable[[str, str | None, str], None]:
    """Upload ``url`` with ``source_conn_id`` and check the emulator stored exactly the file's bytes."""
    apivideo_connection(chunk_size=PART)

    def check(url: str, source_conn_id: str | None, sha256: str) -> None:
        result = ApiVideoHook().upload(url, source_conn_id=source_conn_id, max_in_flight=2, media_type="video/mp4")
        stored = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result.media_id}").json()
        assert (result.size, result.sha256) == (SIZE, sha256)
        assert (stored["size"], stored["sha256"]) == (SIZE, sha256)

    return check


@contextmanager
def _put(fs: fsspec.AbstractFileSystem, local: Path, remote: str) -> Iterator[None]:
    fs.put_file(str(local), remote)
    try:
        yield
    finally:
        fs.rm_file(remote)


def test_one_gib_from_s3(gib_file, s3rver_endpoint, set_connection, upload_from):
    path, sha = gib_file
    fs = fsspec.filesystem("s3", key=S3RVER_KEY, secret=S3RVER_KEY, skip_instance_cache=True,
                           client_kwargs={"endpoint_url": s3rver_endpoint, "region_name": "us-east-1"})
    set_connection("s3rver", conn_type="aws", login=S3RVER_KEY, password=S3RVER_KEY,
                   extra={"region_name": "us-east-1", "endpoint_url": s3rver_endpoint})
    with _put(fs, path, "media/feature.mp4"):
        upload_from("s3://media/feature.mp4", "s3rver", sha)


def test_one_gib_from_azure(gib_file, azurite_endpoint, set_connection, upload_from):
    path, sha = gib_file
    connection_string = (f"DefaultEndpointsProtocol=http;AccountName={AZURE_ACCOUNT};AccountKey={AZURE_KEY};"
                         f"BlobEndpoint={azurite_endpoint};")
    fs = fsspec.filesystem("az", connection_string=connection_string, skip_instance_cache=True)
    if not fs.exists("large"):
        fs.mkdir("large")
    set_connection("azurite_large", conn_type="wasb", login=AZURE_ACCOUNT, password=AZURE_KEY,
                   host=azurite_endpoint)
    with _put(fs, path, "large/feature.mp4"):
        upload_from("az://large/feature.mp4", "azurite_large", sha)


def test_one_gib_from_gcs(gib_file, gcs_endpoint, set_connection, upload_from):
    path, sha = gib_file
    fs = fsspec.filesystem("gs", token="anon", endpoint_url=gcs_endpoint, project="chunkup-test",
                           retry_timeout=0.0, skip_instance_cache=True)
    if not fs.exists("large"):
        fs.mkdir("large")
    set_connection("gcs_large", conn_type="google_cloud_platform",
                   extra={"endpoint_url": gcs_endpoint, "anon": True, "project": "chunkup-test"})
    with _put(fs, path, "large/feature.mp4"):
        upload_from("gs://large/feature.mp4", "gcs_large", sha)


def test_one_gib_over_http(gib_file, set_connection, upload_from):
    path, sha = gib_file
    with range_http(path.parent, token="large-reader") as server:
        set_connection("web_large", conn_type="http", password="large-reader")
        upload_from(f"{server.url}/{path.name}", "web_large", sha)
        # one ranged GET per part of api.video's plan (the last chunk cut into a part and a short tail), nothing more
        parts = [f"bytes={s.offset}-{s.end}" for s in ShortTailPlan(SIZE, PART).segments()]
        assert sorted(server.ranges) == sorted(parts), str(server.ranges)
