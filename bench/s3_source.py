"""S3 source benchmark: reading overlaps sending, and memory does not grow with the object.

    .venv/bin/python bench/s3_source.py [--sizes-mib 256 1024 4096] [--repeats 3] [--send-latency-ms 100]

S3 is s3rver (Node, disk-backed: it streams each ranged GET from its file, as a real store does;
moto copies the whole object per GET, which makes GiB objects crawl) and the upload API is the X
emulator, each in its own process on loopback.
For each object size, in one run, interleaved:

- ``read only``: every 5 MiB chunk read from S3 the way an upload reads it (one ranged GET each).
- ``send only``: the same bytes uploaded from local disk.
- ``S3 -> X``: the full transfer, reading from S3 while sending.

The full transfer should take about the longer of the two, not their sum (the claim: at most
1.2x). On loopback all three processes (s3rver, the emulator, chunkup) compete for the machine's
cores, so ``--send-latency-ms`` makes the emulator answer each segment that much later, as an
upload API across a network does: sending then waits on the network, not on the CPU, which is
what the overlap is for. Every run is a fresh child process reporting its peak RSS. Results go to
``bench/results/s3_source.json`` (``s3_source_latency_<ms>ms.json`` with a latency).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
from common import HERE, PYTHON, emulator

sys.path.insert(0, str(HERE.parent / "tests"))
import local_stores

TOKEN = "chunkup-emulator-token"
CHUNK = 5 * 1024 * 1024  # X's largest segment: 4 GiB fits its 1000-segment limit at one chunk size

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    mode, source = sys.argv[1], sys.argv[2]
    out = {}
    if mode == "read":
        from airflow_provider_chunkup.sources import ChunkSource, StreamingDigest
        from airflow_provider_chunkup.hooks.sources import storage_options_for
        import asyncio
        options = asyncio.run(storage_options_for(source, "s3_bench"))
        started = time.perf_counter()
        with ChunkSource(source, options) as src:
            buffer = bytearray(%(chunk)d)
            digest = StreamingDigest()
            for offset in range(0, src.size, %(chunk)d):
                digest.update(src.read_into(offset, memoryview(buffer)))
        out["seconds"] = time.perf_counter() - started
        out["sha256"] = digest.hexdigests()["sha256"]
    else:
        from airflow_provider_chunkup.hooks.x import XMediaUploadHook
        hook = XMediaUploadHook()
        hook.get_conn()
        started = time.perf_counter()
        result = hook.upload(source, media_type="video/mp4", media_category="amplify_video",
                             source_conn_id="s3_bench" if mode == "s3" else None)
        out["seconds"] = time.perf_counter() - started
        out["sha256"] = result.sha256
        out["media_id"] = result.media_id
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""") % {"chunk": CHUNK}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mib", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--send-latency-ms", type=int, default=0,
                        help="the emulator answers each segment this much later (default 0)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    suffix = f"_latency_{args.send_latency_ms}ms" if args.send_latency_ms else ""
    args.output = args.output or HERE / "results" / f"s3_source{suffix}.json"
    rows = []
    with tempfile.TemporaryDirectory(prefix="chunkup-bench-s3-") as tmp, \
            local_stores.s3rver(Path(tmp) / "s3rver") as endpoint:
        work = Path(tmp)
        import boto3

        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=local_stores.S3RVER_KEY, aws_secret_access_key=local_stores.S3RVER_KEY)
        with emulator({"x": {"rate_limit": 10**9}}, "--no-size-limits", "--x-processing-seconds", "0") as emu:
            if args.send_latency_ms:
                httpx.post(f"{emu.url}/_emulator/faults", json={
                    "match": "/append", "action": "delay", "delay_secs": args.send_latency_ms / 1000,
                    "times": 0}).raise_for_status()
            env = {**os.environ,
                   "AIRFLOW_CONN_CHUNKUP_X_DEFAULT": json.dumps({
                       "conn_type": "chunkup_x", "host": emu.url, "password": TOKEN,
                       "extra": {"size_limits": {"video": 1 << 40}, "chunk_size": CHUNK}}),
                   "AIRFLOW_CONN_S3_BENCH": json.dumps({
                       "conn_type": "aws", "login": local_stores.S3RVER_KEY, "password": local_stores.S3RVER_KEY,
                       "extra": {"region_name": "us-east-1", "endpoint_url": endpoint}})}

            def child(mode: str, source: str) -> dict:
                done = subprocess.run([PYTHON, "-c", CHILD, mode, source], env=env, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(done.stderr[-2000:])
                return json.loads(done.stdout.strip().splitlines()[-1])

            for size_mib in args.sizes_mib:
                local = work / f"video-{size_mib}.mp4"
                with open(local, "wb") as f:
                    for _ in range(size_mib // 8):
                        f.write(os.urandom(8 << 20))
                s3.upload_file(str(local), "media", local.name)
                from airflow_provider_chunkup.sources import file_digest

                expected = file_digest(local)
                modes = {"read only": ("read", f"s3://media/{local.name}"), "send only": ("local", str(local)),
                         "S3 -> X": ("s3", f"s3://media/{local.name}")}
                runs: dict[str, list[dict]] = {name: [] for name in modes}
                for _ in range(args.repeats):
                    for name, (mode, source) in modes.items():
                        run = child(mode, source)
                        assert run["sha256"] == expected, f"{name}: wrong bytes"
                        if "media_id" in run:
                            got = httpx.get(f"{emu.url}/_emulator/x/media/{run['media_id']}").json()["sha256"]
                            assert got == expected, f"{name}: the emulator received other bytes"
                        runs[name].append(run)
                        emu.clear_received()
                medians = {name: statistics.median(r["seconds"] for r in rs) for name, rs in runs.items()}
                slowest_part = max(medians["read only"], medians["send only"])
                for name, results in runs.items():
                    rows.append({"size_mib": size_mib, "method": name, "median_seconds": round(medians[name], 3),
                                 "mib_per_second": round(size_mib / medians[name], 1),
                                 "vs_slower_of_read_and_send": round(medians[name] / slowest_part, 3),
                                 "vs_sum_of_read_and_send": round(
                                     medians[name] / (medians["read only"] + medians["send only"]), 3),
                                 "peak_rss_mib": round(max(r["peak_rss_mib"] for r in results), 1),
                                 "runs": [round(r["seconds"], 3) for r in results]})
                s3.delete_object(Bucket="media", Key=local.name)
                local.unlink()
                print(f"{size_mib} MiB done", file=sys.stderr, flush=True)
    print(f"\n{'size':>9} {'method':<10} {'median s':>9} {'MiB/s':>8} {'/slower':>8} {'/sum':>6} {'peak RSS':>9}")
    for r in rows:
        print(f"{r['size_mib']:>5} MiB {r['method']:<10} {r['median_seconds']:>9.2f} {r['mib_per_second']:>8.1f} "
              f"{r['vs_slower_of_read_and_send']:>8.2f} {r['vs_sum_of_read_and_send']:>6.2f} "
              f"{r['peak_rss_mib']:>5.0f} MiB")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    summary = {"benchmark": "s3_source", "date": time.strftime("%Y-%m-%d"), "chunk_bytes": CHUNK,
               "machine": {"python": platform.python_version(), "platform": platform.platform(),
                           "cpus": os.cpu_count()}, "s3": "s3rver 3",
               "send_latency_ms": args.send_latency_ms,
               "repeats": args.repeats, "results": rows}
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
