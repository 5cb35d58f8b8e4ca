"""The cluster demo: S3 objects fanned out over two Celery workers, then one file split over mapped appends.

Run by ``bash .ci/cluster demo`` on a cluster it has just started; prints what happened, task by task.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cluster"))

from cluster_client import Cluster

MiB = 1024 * 1024
OBJECTS = int(os.environ.get("CHUNKUP_DEMO_OBJECTS", "12"))
SPLIT_MB = int(os.environ.get("CHUNKUP_DEMO_SPLIT_MB", "256"))


def say(text: str) -> None:
    print(text, flush=True)


def fan_out(cluster: Cluster) -> None:
    prefix = f"media/demo-{os.urandom(3).hex()}/"
    s3 = cluster.s3()
    digests = {}
    for i in range(OBJECTS):
        data = os.urandom(8 * MiB + i * MiB + i)
        digests[f"s3://{prefix}clip-{i:02d}.mp4"] = hashlib.sha256(data).hexdigest()
        s3.pipe_file(f"{prefix}clip-{i:02d}.mp4", data)
    say(f"== chunkup_s3_fanout: {OBJECTS} objects under s3://{prefix} (s3rver) -> api.video (emulator)")
    started = time.monotonic()
    run_id = cluster.trigger("chunkup_s3_fanout", {"prefix": f"s3://{prefix}"})
    cluster.expect_success("chunkup_s3_fanout", run_id, timeout=900)
    elapsed = time.monotonic() - started
    tis = sorted((ti for ti in cluster.task_instances("chunkup_s3_fanout", run_id) if ti["task_id"] == "upload"),
                 key=lambda ti: ti["map_index"])
    matches = 0
    for ti in tis:
        result = cluster.xcom("chunkup_s3_fanout", run_id, "upload", ti["map_index"])
        video = cluster.emulator_get(f"/_emulator/apivideo/videos/{result['media_id']}")
        source = ti.get("rendered_map_index") or f"upload[{ti['map_index']}]"
        ok = video["sha256"] == digests.get(source, result["sha256"]) == result["sha256"]
        matches += ok
        say(f"   {source:<40} {ti['hostname']:<9} {result['size'] / MiB:6.1f} MiB  {ti['duration']:5.1f} s  "
            f"video {result['media_id']}  sha256 {'MATCH' if ok else 'MISMATCH'}")
    per_worker = Counter(ti["hostname"] for ti in tis)
    say(f"   {len(tis)} uploads in {elapsed:.1f} s from trigger to success; per worker: "
        + ", ".join(f"{w} {n}" for w, n in sorted(per_worker.items())) + f"; {matches}/{len(tis)} byte-exact")
    s3.rm(prefix, recursive=True)


def split(cluster: Cluster) -> None:
    path = cluster.dir / "shared" / "demo-split.mp4"
    path.parent.mkdir(exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(SPLIT_MB // 8):
            piece = os.urandom(8 * MiB)
            digest.update(piece)
            f.write(piece)
    say(f"== chunkup_split_upload: {SPLIT_MB} MiB to X (emulator), init once, 4 mapped appends, finalize")
    started = time.monotonic()
    run_id = cluster.trigger("chunkup_split_upload", {"source": str(path), "conn_id": "chunkup_x_default",
                                                      "source_conn_id": None, "chunk_size": None, "parts": 4})
    cluster.expect_success("chunkup_split_upload", run_id, timeout=900)
    elapsed = time.monotonic() - started
    split_out = cluster.xcom("chunkup_split_upload", run_id, "split")
    for ti in sorted((t for t in cluster.task_instances("chunkup_split_upload", run_id) if t["task_id"] == "append"),
                     key=lambda t: t["map_index"]):
        segments = split_out[ti["map_index"]]["segments"]
        say(f"   append[{ti['map_index']}] segments {segments:<8} on {ti['hostname']:<9} {ti['duration']:5.1f} s")
    result = cluster.xcom("chunkup_split_upload", run_id, "finalize")
    media = cluster.emulator_get(f"/_emulator/x/media/{result['media_id']}")
    say(f"   media {result['media_id']}: {result['size']} bytes, {len(result['range_digests'])} range digests, "
        f"emulator sha256 {'MATCH' if media['sha256'] == digest.hexdigest() else 'MISMATCH'} with the file; "
        f"{elapsed:.1f} s from trigger to processed")
    path.unlink()


def main(directory: str) -> int:
    cluster = Cluster(directory)
    try:
        fan_out(cluster)
        split(cluster)
    finally:
        cluster.close()
    say(f"== UI: {cluster.api_url} (admin / {cluster.info['password']}) until the cluster stops")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
