"""api.video upload benchmark: parts in parallel against sequential parts and curl, in one run.

    .venv/bin/python bench/apivideo_upload.py [--sizes-mib 256 1024] [--repeats 5] [--part-mib 16]

With the emulator in its own process on loopback, for each file size:

- ``curl``: ``POST /videos``, then one ``curl`` process sending every part in order
  (``Content-Range: part N/M``) over one kept-alive connection: the baseline.
- ``chunkup x1``: ``ApiVideoHook.upload`` with one part in flight (the same requests as curl).
- ``chunkup x4``: four parts in flight.

``--latency-ms`` repeats everything with the emulator holding each part request that long before
answering (its ``delay`` fault), the way a platform across a network answers: on loopback with no
latency the single-threaded emulator is the bottleneck and parts in flight cannot help; with
latency they overlap the waits.

Each chunkup run is a fresh child process reporting its peak RSS and CPU. Medians, ratios to curl,
and everything measured go to ``bench/results/apivideo_upload.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx
from common import HERE, children_cpu, curl, emulator, idle_rss, measure, report, require_curl, run_chunkup, split

KEY = "chunkup-apivideo-key"
HOOK = "airflow_provider_chunkup.hooks.apivideo:ApiVideoHook"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mib", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--part-mib", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 100])
    parser.add_argument("--output", type=Path, default=HERE / "results" / "apivideo_upload.json")
    args = parser.parse_args()
    require_curl()
    chunk = args.part_mib * 1024 * 1024
    # Production allows 100 uploads a minute: the repeated runs would measure the limit, not the upload.
    patch = {"apivideo": {"upload_rate_limit": 10**9, "write_rate_limit": 10**9, "read_rate_limit": 10**9,
                          "encoding_seconds": 0, "playable_after_secs": 0}}
    with emulator(patch) as emu:
        env = {"AIRFLOW_CONN_CHUNKUP_APIVIDEO_DEFAULT": json.dumps({
            "conn_type": "chunkup_apivideo", "host": emu.url, "password": KEY, "extra": {"chunk_size": chunk}})}
        work = Path(tempfile.mkdtemp(prefix="chunkup-bench-apivideo-"))

        def chunkup(in_flight: int):
            def run(path: Path, size: int, expected: str) -> dict:
                out = run_chunkup(HOOK, env, path, options={"title": "bench"}, max_in_flight=in_flight)
                assert out["sha256"] == expected, "chunkup read the file wrong"
                return out
            return run

        def with_curl(path: Path, size: int, expected: str) -> dict:
            folder = work / f"parts-{path.stem}"
            parts = sorted(folder.glob("part-*")) or split(path, chunk, folder)
            with children_cpu() as cpu:
                started = time.perf_counter()
                video = json.loads(curl("-u", f"{KEY}:", "-H", "Content-Type: application/json",
                                        "-d", json.dumps({"title": "bench"}), f"{emu.url}/videos"))
                sends: list[str] = []
                for index, part in enumerate(parts):
                    sends += [*(["--next", "-sS", "--fail-with-body"] if index else []), "-o", "/dev/null",
                              "-u", f"{KEY}:", "-H", f"Content-Range: part {index + 1}/{len(parts)}",
                              "-F", f"file=@{part}", f"{emu.url}/videos/{video['videoId']}/source"]
                curl(*sends)
                seconds = time.perf_counter() - started
            return {"seconds": seconds, "media_id": video["videoId"], **cpu}

        def received(video_id: str) -> str | None:
            return httpx.get(f"{emu.url}/_emulator/apivideo/videos/{video_id}").json()["sha256"]

        idle = idle_rss(HOOK, env)
        print(f"emulator {emu.url}; {args.part_mib} MiB parts; idle interpreter: {idle:.0f} MiB RSS")
        methods = {"curl": with_curl, "chunkup x1": chunkup(1), "chunkup x4": chunkup(4)}
        rows = []
        for latency in args.latency_ms:
            httpx.delete(f"{emu.url}/_emulator/faults").raise_for_status()
            if latency:
                httpx.post(f"{emu.url}/_emulator/faults", json={
                    "match": r"POST /videos/\w+/source", "action": "delay", "delay_secs": latency / 1000, "times": 0,
                }).raise_for_status()
            sizes = [m * 1024 * 1024 for m in args.sizes_mib]
            for row in measure(methods, sizes, args.repeats, emu, received, "curl", work):
                rows.append({"latency_ms": latency, **row})
    report("apivideo_upload", rows, "curl", idle, args.output, {"part_bytes": chunk, "repeats": args.repeats})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
