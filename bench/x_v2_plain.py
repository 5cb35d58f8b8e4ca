"""X API v2 over plain http: chunkup against curl, where nothing (no TLS) dilutes a client's own cost.

    .venv/bin/python bench/x_v2_plain.py [--sizes-mib 512] [--repeats 5] [--quick]

The X emulator in its own process on loopback, without TLS; the same file in the same 4 MiB segments:

- ``curl``: ``peers/x_v2_curl_upload.sh``: initialize, one ``curl`` sending every segment over one
  kept-alive connection (``--next``), finalize; the segments cut with ``split`` beforehand, untimed.
- ``chunkup x1`` / ``chunkup x3``: ``XMediaUploadHook.upload`` (API v2) with one / three segments in
  flight, in a fresh child process, as a new user would call it (whole-file sha256 on).
- ``... nosum``: the same with ``checksum=False``, to show what the sha256 costs.

Each upload is checked byte-exact on the emulator, and what the emulator stored is dropped after each
run (left in place, a page cache filling with gigabytes of dirty pages slows every later run). Wall time
and client CPU (``getrusage`` of the uploading process; curl's script's children) go to
``bench/results/x_v2_plain.json`` with the machine, versions and date.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from common import (
    HERE,
    Measured,
    add_pin_argument,
    chunkup_command,
    emulator,
    idle_rss,
    measure,
    pinned_output,
    report,
    require_curl,
    split,
    start_process,
)
from x_upload import machine, versions

MiB = 1024 * 1024
CHUNK = 4 * MiB
HOOK = "airflow_provider_chunkup.hooks.x:XMediaUploadHook"
TOKEN = "chunkup-emulator-token"
METHODS = {"chunkup x1": {"max_in_flight": 1}, "chunkup x3": {"max_in_flight": 3},
           "chunkup x1 nosum": {"max_in_flight": 1, "checksum": False},
           "chunkup x3 nosum": {"max_in_flight": 3, "checksum": False}}


def outcome(method: str, done: Measured, curl: bool) -> dict[str, Any]:
    if done.returncode:
        raise RuntimeError(f"{method} failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if curl:  # the script reports the media id only: time and CPU are its processes'
        out.update(seconds=done.seconds, cpu_seconds=done.cpu_seconds, peak_rss_mib=None)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mib", type=int, nargs="+", default=[512])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="64 MiB, 2 repeats, to check the script")
    parser.add_argument("--output", type=Path, help="default: bench/results/x_v2_plain.json (--quick: a temp file)")
    add_pin_argument(parser)
    args = parser.parse_args()
    if args.quick:
        args.sizes_mib, args.repeats = [64], 2
    output = args.output or (Path(tempfile.gettempdir()) / "x_v2_plain_quick.json" if args.quick
                             else pinned_output(HERE / "results" / "x_v2_plain.json", args.pin))
    require_curl()
    with emulator({"x": {"rate_limit": 10**9}}, "--no-size-limits", "--x-processing-seconds", "0",
                  pin=args.pin) as emu:
        work = Path(tempfile.mkdtemp(prefix="chunkup-bench-x2-"))
        conn = {"conn_type": "chunkup_x", "host": emu.url, "password": TOKEN,
                "extra": {"allow_insecure_http": True, "size_limits": {"video": 1 << 40}}}
        env = {"AIRFLOW_CONN_CHUNKUP_X_DEFAULT": json.dumps(conn)}

        def curl(path: Path, size: int, expected: str) -> dict[str, Any]:
            parts = work / f"parts-{path.stem}"
            if not parts.exists():
                split(path, CHUNK, parts)
            cmd = ["bash", str(HERE / "peers" / "x_v2_curl_upload.sh"), emu.url, TOKEN, str(size), str(parts)]
            return outcome("curl", start_process(cmd).wait(), curl=True)

        def chunkup(kwargs: dict[str, Any]) -> Any:
            def run(path: Path, size: int, expected: str) -> dict[str, Any]:
                cmd = chunkup_command(HOOK, path, media_type="video/mp4", chunk_size=CHUNK, **kwargs)
                out = outcome(str(kwargs), start_process(cmd, env).wait(), curl=False)
                assert out["sha256"] in (expected, None), "chunkup read the file wrong"
                return out
            return run

        idle = idle_rss(HOOK, env)
        methods = {"curl": curl, **{name: chunkup(kwargs) for name, kwargs in METHODS.items()}}
        try:
            rows = measure(methods, [s * MiB for s in args.sizes_mib], args.repeats, emu,
                           lambda media_id: emu.get(f"/_emulator/x/media/{media_id}")["sha256"], "curl", work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    curl_cpu = {r["size_mib"]: r["client_cpu_seconds"] for r in rows if r["method"] == "curl"}
    for row in rows:
        row["cpu_vs_curl"] = round(row["client_cpu_seconds"] / curl_cpu[row["size_mib"]], 2)
    settings = {
        "machine": machine(), "versions": versions(), "api": "X v2 over plain http (loopback)",
        "chunk_bytes": CHUNK, "repeats": args.repeats, "pinned": args.pin,
        "notes": [
            "curl's time is the whole script's (bash and three curl processes); its segments are cut beforehand.",
            "chunkup's time is hook.upload() in a child that has already imported Airflow and the hook.",
            "The emulator (a Python server that parses each multipart body, hashes and stores it) shares the "
            "2 cores with the client: client CPU turns into wall time here, which a remote server would not.",
            *(["Pinned: the emulator on one half of the CPUs, every client on the other, as if the server were "
               "another machine."] if args.pin else []),
        ],
    }
    report("x_v2_plain", rows, "curl", idle, output, settings)
    for row in rows:
        print(f"{row['size_mib']:>6g} MiB {row['method']:<18} client CPU {row['client_cpu_seconds']:.2f} s = "
              f"{row['cpu_vs_curl']:.2f}x curl's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
