"""Uploads fanned out over both workers: many S3 objects as mapped tasks, and one large file split into
mapped appends. Everything byte-exact at the emulator, one remote media per file."""

from __future__ import annotations

import hashlib
import itertools
import os

import pytest

pytestmark = pytest.mark.cluster

MiB = 1024 * 1024
INSPECT = {"x": "/_emulator/x/media", "apivideo": "/_emulator/apivideo/videos"}


def remote_uploads(cluster, api: str) -> set[str]:
    return {item.get("id") or item.get("videoId") for item in cluster.emulator_get(INSPECT[api])}


def hostnames(cluster, dag_id: str, run_id: str, task_id: str) -> list[str]:
    return [ti["hostname"] for ti in cluster.task_instances(dag_id, run_id) if ti["task_id"] == task_id]


def test_every_object_under_a_prefix_uploads_across_both_workers(cluster):
    """24 objects of 8 to 40 MiB in S3, one mapped upload task each, in the chunkup_apivideo pool."""
    prefix = f"media/batch-{os.urandom(4).hex()}/"
    s3 = cluster.s3()
    digests = set()
    for i in range(24):
        data = os.urandom(8 * MiB + i * (32 * MiB // 23) + i)  # 8 MiB to 40 MiB
        digests.add(hashlib.sha256(data).hexdigest())
        s3.pipe_file(f"{prefix}clip-{i:02d}.mp4", data)
        del data
    before = remote_uploads(cluster, "apivideo")
    try:
        run_id = cluster.trigger("chunkup_s3_fanout", {"prefix": f"s3://{prefix}"})
        cluster.expect_success("chunkup_s3_fanout", run_id, timeout=600)
    finally:
        s3.rm(prefix, recursive=True)

    hosts = hostnames(cluster, "chunkup_s3_fanout", run_id, "upload")
    assert len(hosts) == 24 and set(hosts) == {"worker-a", "worker-b"}, hosts
    new = remote_uploads(cluster, "apivideo") - before
    assert len(new) == 24  # one video per object
    received = {cluster.emulator_get(f"/_emulator/apivideo/videos/{video}")["sha256"] for video in new}
    assert received == digests


@pytest.fixture(scope="module")
def big_file(cluster):
    """512 MiB on the shared disk, with its sha256."""
    path = cluster.dir / "shared" / "big-512.mp4"
    path.parent.mkdir(exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(64):
            piece = os.urandom(8 * MiB)
            digest.update(piece)
            f.write(piece)
    yield path, digest.hexdigest()
    path.unlink()


def range_sha256(path, offset: int, length: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        f.seek(offset)
        while length:
            piece = f.read(min(length, 8 * MiB))
            digest.update(piece)
            length -= len(piece)
    return digest.hexdigest()


@pytest.mark.parametrize(("api", "conn_id", "chunk_size"), [("x", "chunkup_x_default", None),
                                                            ("apivideo", "chunkup_apivideo_default", 16 * MiB)])
def test_one_large_file_split_over_four_appends(cluster, big_file, api, conn_id, chunk_size):
    """512 MiB, init once, four mapped appends sharing the remote upload, finalize once."""
    path, sha = big_file
    before = remote_uploads(cluster, api)
    # Each chunk answer waits a little, so all four appends are in flight together and Celery (one task
    # reserved per free slot) must hand some to each worker.
    cluster.emulator.post("/_emulator/faults", json={"match": "/append$|^POST /videos/[^/]+/source$",
                                                     "action": "delay", "delay_secs": 0.3, "times": 0})
    try:
        run_id = cluster.trigger("chunkup_split_upload", {"source": str(path), "conn_id": conn_id,
                                                          "source_conn_id": None, "chunk_size": chunk_size,
                                                          "parts": 4})
        cluster.expect_success("chunkup_split_upload", run_id, timeout=600)
    finally:
        cluster.emulator.delete("/_emulator/faults")

    hosts = hostnames(cluster, "chunkup_split_upload", run_id, "append")
    assert len(hosts) == 4 and set(hosts) == {"worker-a", "worker-b"}, hosts
    (media,) = remote_uploads(cluster, api) - before  # one remote media
    assert cluster.emulator_get(f"{INSPECT[api]}/{media}")["sha256"] == sha
    result = cluster.xcom("chunkup_split_upload", run_id, "finalize")
    assert result["sha256"] is None  # no task read the whole file ...
    ranges = result["range_digests"]  # ... but each range's digest is there, and they tile the file
    assert ranges[0]["offset"] == 0
    assert all(a["offset"] + a["length"] == b["offset"] for a, b in itertools.pairwise(ranges))
    # To the last byte: for api.video the last range is the last part, which finalize hashes as it sends it.
    assert ranges[-1]["offset"] + ranges[-1]["length"] == path.stat().st_size
    for r in ranges:
        assert r["sha256"] == range_sha256(path, r["offset"], r["length"])
