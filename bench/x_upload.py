"""X upload benchmark: chunkup against curl sending the same chunks to the same emulator, in one run.

    .venv/bin/python bench/x_upload.py [--sizes-mib 256 1024] [--repeats 3]

For each file size it measures, with the emulator in its own process on loopback:

- ``curl``: one ``curl`` process sending every 4 MiB segment in order over one kept-alive
  connection (``--next``), plus the initialize and finalize calls: the baseline.
- ``chunkup x1``: ``XMediaUploadHook.upload`` with one segment in flight (same requests as curl).
- ``chunkup x3``: the default, three segments in flight.
- ``chunkup x3 nosum``: the same without the sha256 chunkup computes as chunks pass (curl
  computes none), to show what the checksum costs on this machine.

Each chunkup run is a fresh child process reporting its peak RSS, next to a child that only imports
the same modules: the difference is what the upload itself holds. Medians and ratios to curl are
printed and written to ``bench/results/x_upload.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
TOKEN = "chunkup-emulator-token"
CHUNK = 4 * 1024 * 1024

CHILD = textwrap.dedent("""
    import json, os, resource, sys, time
    from airflow_provider_chunkup.hooks.x import XMediaUploadHook
    path, in_flight, checksum = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    result = None
    if path != "-":
        hook = XMediaUploadHook()
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        result = hook.upload(path, media_type="video/mp4", media_category="amplify_video",
                             chunk_size={chunk}, max_in_flight=in_flight, checksum=checksum)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({{
        "cpu_seconds": cpu if result else None,
        "seconds": seconds if result else None,
        "sha256": result.sha256 if result else None,
        "media_id": result.media_id if result else None,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }}))
""").format(chunk=CHUNK)


def start_emulator(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = work / "port"
    proc = subprocess.Popen(
        [str(Path(PYTHON).with_name("chunkup-emulator")), "--port", "0", "--port-file", str(port_file),
         "--data-dir", str(work / "emulator"), "--no-size-limits", "--x-processing-seconds", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        if port_file.exists() and port_file.read_text().strip():
            url = f"http://127.0.0.1:{port_file.read_text().strip()}"
            # X's 1875 uploads calls per 15 minutes would throttle the repeated runs, not measure them.
            httpx.patch(f"{url}/_emulator/config", json={"x": {"rate_limit": 10**9}}).raise_for_status()
            return proc, url
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("emulator did not start")


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            piece = os.urandom(min(left, 8 << 20))
            f.write(piece)
            left -= len(piece)


def clear_received(work: Path) -> None:
    # The bench owns the emulator's data dir: drop received files between runs to bound disk use.
    for item in (work / "emulator").glob("**/*"):
        if item.is_file():
            item.unlink()


def run_chunkup(url: str, path: Path | str, in_flight: int, checksum: bool = True) -> dict:
    env = {**os.environ, "AIRFLOW_CONN_CHUNKUP_X_DEFAULT": json.dumps(
        # X caps video at 512 MiB unless the account allows more: the bench's account does.
        {"conn_type": "chunkup_x", "host": url, "password": TOKEN, "extra": {"size_limits": {"video": 1 << 40}}})}
    out = subprocess.run([PYTHON, "-c", CHILD, str(path), str(in_flight), "1" if checksum else "0"], env=env,
                         check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_curl(url: str, path: Path, segments_dir: Path, size: int) -> dict:
    """initialize, every segment in order over one connection, finalize; all with curl."""
    auth = ["-H", f"Authorization: Bearer {TOKEN}"]
    segments = sorted(segments_dir.iterdir())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    init = subprocess.run(
        ["curl", "-sS", "--fail-with-body", *auth, "-H", "Content-Type: application/json", "-d",
         json.dumps({"media_type": "video/mp4", "media_category": "amplify_video", "total_bytes": size}),
         f"{url}/2/media/upload/initialize"], check=True, capture_output=True, text=True)
    media_id = json.loads(init.stdout)["data"]["id"]
    args = ["curl", "-sS", "--fail-with-body", "-o", "/dev/null"]
    for index, segment in enumerate(segments):
        if index:
            args += ["--next", "-sS", "--fail-with-body", "-o", "/dev/null"]
        args += [*auth, "-F", f"segment_index={index}", "-F", f"media=@{segment}",
                 f"{url}/2/media/upload/{media_id}/append"]
    appended = subprocess.run(args, capture_output=True, text=True)
    if appended.returncode:
        raise RuntimeError(f"curl append failed ({appended.returncode}): {appended.stderr[-500:]}")
    subprocess.run(["curl", "-sS", "--fail-with-body", "-o", "/dev/null", *auth, "-X", "POST",
                    f"{url}/2/media/upload/{media_id}/finalize"], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": seconds, "media_id": media_id, "cpu_seconds": cpu}


def sha256_of(path: Path) -> str:
    from airflow_provider_chunkup.sources import file_digest

    return file_digest(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mib", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "x_upload.json")
    args = parser.parse_args()
    if not shutil.which("curl"):
        print("curl is needed for the baseline", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-"))
    emulator, url = start_emulator(work)
    rows = []
    try:
        baseline_rss = run_chunkup(url, "-", 1)["peak_rss_mib"]
        print(f"emulator {url}; interpreter with chunkup and Airflow imported: {baseline_rss:.0f} MiB RSS")
        for size_mib in args.sizes_mib:
            size = size_mib * 1024 * 1024
            path = work / f"video-{size_mib}.mp4"
            make_file(path, size)
            expected = sha256_of(path)
            segments_dir = work / f"segments-{size_mib}"
            segments_dir.mkdir()
            subprocess.run(["split", "-b", str(CHUNK), "-d", "-a", "4", str(path), f"{segments_dir}/seg-"],
                           check=True)
            runs: dict[str, list[dict]] = {"curl": [], "chunkup x1": [], "chunkup x3": [], "chunkup x3 nosum": []}
            for _ in range(args.repeats):  # interleaved, so drift in machine load hits every method alike
                for name in runs:
                    if name == "curl":
                        run = run_curl(url, path, segments_dir, size)
                    else:
                        checksum = not name.endswith("nosum")
                        run = run_chunkup(url, path, int(name.split()[1][1:]), checksum)
                        assert run["sha256"] == (expected if checksum else None), "chunkup read the file wrong"
                    received = httpx.get(f"{url}/_emulator/x/media/{run['media_id']}").json()
                    assert received["sha256"] == expected, f"{name}: emulator got different bytes"
                    runs[name].append(run)
                    clear_received(work)
            curl_median = statistics.median(r["seconds"] for r in runs["curl"])
            for name, results in runs.items():
                median = statistics.median(r["seconds"] for r in results)
                row = {
                    "size_mib": size_mib, "method": name, "median_seconds": round(median, 3),
                    "mib_per_second": round(size_mib / median, 1),
                    "time_vs_curl": round(median / curl_median, 3),
                    "peak_rss_mib": round(max(r.get("peak_rss_mib") or 0 for r in results), 1) or None,
                    "client_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in results), 3),
                    "runs": [round(r["seconds"], 3) for r in results],
                }
                if row["peak_rss_mib"]:
                    row["rss_over_baseline_mib"] = round(row["peak_rss_mib"] - baseline_rss, 1)
                rows.append(row)
            path.unlink()
            shutil.rmtree(segments_dir)
    finally:
        emulator.terminate()
        emulator.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'size':>8} {'method':<17} {'median s':>9} {'MiB/s':>8} {'time/curl':>10} {'client CPU s':>13} "
          f"{'peak RSS':>9} {'+upload':>8}")
    for r in rows:
        rss = f"{r['peak_rss_mib']:.0f} MiB" if r["peak_rss_mib"] else "-"
        extra = f"{r['rss_over_baseline_mib']:.0f} MiB" if r.get("rss_over_baseline_mib") is not None else "-"
        print(f"{r['size_mib']:>5} MiB {r['method']:<17} {r['median_seconds']:>9.2f} {r['mib_per_second']:>8.1f} "
              f"{r['time_vs_curl']:>10.2f} {r['client_cpu_seconds']:>13.2f} {rss:>9} {extra:>8}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "x_upload", "date": time.strftime("%Y-%m-%d"), "machine": {
            "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "chunk_bytes": CHUNK, "repeats": args.repeats, "baseline_rss_mib": round(baseline_rss, 1),
        "results": rows,
    }, indent=2) + "\n")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
