"""X upload benchmark: chunkup against curl sending the same chunks to the same emulator, in one run.

    .venv/bin/python bench/x_upload.py [--sizes-mib 256 1024] [--repeats 5]

With the emulator in its own process on loopback, for each file size:

- ``curl``: one ``curl`` process sending every 4 MiB segment in order over one kept-alive
  connection (``--next``), plus the initialize and finalize calls: the baseline.
- ``chunkup x1``: ``XMediaUploadHook.upload`` with one segment in flight (the same requests as curl).
- ``chunkup x3``: the default, three segments in flight.
- ``chunkup x3 nosum``: the same without the sha256 chunkup computes as chunks pass (curl computes
  none), to show what the checksum costs.

Each chunkup run is a fresh child process reporting its peak RSS and CPU. Medians, ratios to curl,
and everything measured go to ``bench/results/x_upload.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx
from common import HERE, children_cpu, curl, emulator, idle_rss, measure, report, require_curl, run_chunkup, split

TOKEN = "chunkup-emulator-token"
CHUNK = 4 * 1024 * 1024
HOOK = "airflow_provider_chunkup.hooks.x:XMediaUploadHook"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mib", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "x_upload.json")
    args = parser.parse_args()
    require_curl()
    # X's 1875 upload calls per 15 minutes would throttle the repeated runs, not measure them.
    with emulator({"x": {"rate_limit": 10**9}}, "--no-size-limits", "--x-processing-seconds", "0") as emu:
        # X caps video at 512 MiB unless the account allows more: the bench's account does.
        env = {"AIRFLOW_CONN_CHUNKUP_X_DEFAULT": json.dumps({
            "conn_type": "chunkup_x", "host": emu.url, "password": TOKEN,
            "extra": {"size_limits": {"video": 1 << 40}, "chunk_size": CHUNK}})}
        work = Path(tempfile.mkdtemp(prefix="chunkup-bench-x-"))

        def chunkup(in_flight: int, checksum: bool = True):
            def run(path: Path, size: int, expected: str) -> dict:
                out = run_chunkup(HOOK, env, path, media_type="video/mp4", media_category="amplify_video",
                                  max_in_flight=in_flight, checksum=checksum)
                assert out["sha256"] == (expected if checksum else None), "chunkup read the file wrong"
                return out
            return run

        def with_curl(path: Path, size: int, expected: str) -> dict:
            folder = work / f"parts-{path.stem}"
            parts = sorted(folder.glob("part-*")) or split(path, CHUNK, folder)
            auth = ["-H", f"Authorization: Bearer {TOKEN}"]
            with children_cpu() as cpu:
                started = time.perf_counter()
                init = curl(*auth, "-H", "Content-Type: application/json", "-d", json.dumps(
                    {"media_type": "video/mp4", "media_category": "amplify_video", "total_bytes": size}),
                    f"{emu.url}/2/media/upload/initialize")
                media_id = json.loads(init)["data"]["id"]
                appends: list[str] = []
                for index, part in enumerate(parts):
                    appends += [*(["--next", "-sS", "--fail-with-body"] if index else []), "-o", "/dev/null", *auth,
                                "-F", f"segment_index={index}", "-F", f"media=@{part}",
                                f"{emu.url}/2/media/upload/{media_id}/append"]
                curl(*appends)
                curl("-o", "/dev/null", *auth, "-X", "POST", f"{emu.url}/2/media/upload/{media_id}/finalize")
                seconds = time.perf_counter() - started
            return {"seconds": seconds, "media_id": media_id, **cpu}

        def received(media_id: str) -> str | None:
            return httpx.get(f"{emu.url}/_emulator/x/media/{media_id}").json()["sha256"]

        idle = idle_rss(HOOK, env)
        print(f"emulator {emu.url}; interpreter with chunkup and Airflow imported: {idle:.0f} MiB RSS")
        methods = {"curl": with_curl, "chunkup x1": chunkup(1), "chunkup x3": chunkup(3),
                   "chunkup x3 nosum": chunkup(3, checksum=False)}
        rows = measure(methods, [m * 1024 * 1024 for m in args.sizes_mib], args.repeats, emu, received, "curl", work)
    report("x_upload", rows, "curl", idle, args.output, {"chunk_bytes": CHUNK, "repeats": args.repeats})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
