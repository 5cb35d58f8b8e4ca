"""What the api.video and Content-Range benchmarks add to ``bench/common.py`` (both import it).

- :func:`measured`: a command (curl, md5sum) timed, with its CPU and peak RSS, through a small wrapper
  process whose only child it is. Not ``common.run_measured``: a child spawned by Python (vfork, then
  exec) inherits its parent's RSS high-water mark in ``ru_maxrss``, so curl reaped by the bench would
  show the bench's peak; the wrapper's own (~10 MiB) is below curl's.
- :func:`curl_config`: curl transfers as a ``curl -K`` config file, so thousands of chunks fit.
- :func:`kill_at`, :func:`resume_row`: SIGKILL an upload once the emulator has half the file, run it
  again, count what was sent.
- :func:`versions`, :func:`write_report`: provenance and the JSON.

Peers run under ``bench/.venv-peers`` (``bench/peers/requirements.txt``); chunkup under ``.venv``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from common import PEERS_PYTHON, PYTHON, Emulator, Measured, kill_when, route_bytes, start_process

BENCH = Path(__file__).resolve().parent.parent
PEERS = BENCH / "peers"
MiB = 1024 * 1024

WRAPPER = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    report, argv = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    code = subprocess.run(argv).returncode
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(report, "w") as f:
        json.dump({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                   "peak_rss_mib": usage.ru_maxrss / 1024}, f)
    sys.exit(code)
""")


def require_peers() -> None:
    if not PEERS_PYTHON.exists():
        sys.exit(f"The peers' venv is missing: python3.11 -m venv {PEERS_PYTHON.parent.parent} && "
                 f"{PEERS_PYTHON} -m pip install -r {PEERS / 'requirements.txt'} (or run bash bench/run)")


def measured(*argv: str | Path) -> Measured:
    """Run ``argv`` (output captured) to the end: its wall time, CPU and peak RSS, as its parent sees them."""
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        done = subprocess.run([PYTHON, "-c", WRAPPER, report.name, *map(str, argv)], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stdout[-300:]} {done.stderr[-300:]}")
        got = json.loads(Path(report.name).read_text())
    return Measured(done.returncode, done.stdout, done.stderr, got["seconds"], got["cpu_seconds"],
                    got["peak_rss_mib"])


def wrapped(*argv: str | Path) -> list[str]:
    """``argv`` under the measuring wrapper, for a process the bench may kill (its report is dropped)."""
    return [PYTHON, "-c", WRAPPER, os.devnull, *map(str, argv)]


def curl_config(transfers: Sequence[Sequence[tuple[str, str]]]) -> str:
    """A ``curl -K`` file: each transfer's options, separated by ``next`` (one connection, kept alive)."""
    lines = ["silent", "show-error"]
    for index, transfer in enumerate(transfers):
        if index:
            lines.append("next")
        lines += ["fail-with-body", *(f'{option} = "{value}"' for option, value in transfer)]
    return "\n".join(lines) + "\n"


def run_json(argv: Sequence[str], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run a child that prints one JSON line last; fail loudly with its stderr."""
    done = subprocess.run(list(argv), env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{Path(argv[1]).name if len(argv) > 1 else argv[0]} failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def kill_at(argv: Sequence[str], env: Mapping[str, str], emu: Emulator, routes: Sequence[str], at_bytes: int) -> None:
    """Start ``argv`` in its own process group; SIGKILL the group once ``routes`` received ``at_bytes``."""
    kill_when(start_process(list(argv), env), lambda: route_bytes(emu, *routes), at_bytes)


def resume_row(method: str, size: int, kill: Callable[[], None], rerun: Callable[[], None], emu: Emulator,
               routes: Sequence[str], uploads: Callable[[], tuple[int, int]]) -> dict[str, Any]:
    """Kill an upload half-way, run it again to the end, and count the body bytes the emulator received.

    ``uploads`` answers (remote uploads created, uploads completed with the right bytes).
    """
    httpx.post(f"{emu.url}/_emulator/stats/reset", verify=emu.verify).raise_for_status()
    kill()
    killed_after = route_bytes(emu, *routes)
    rerun()
    total = route_bytes(emu, *routes)
    created, completed = uploads()
    row = {"method": method, "size_mib": round(size / MiB, 2), "killed_after_mib": round(killed_after / MiB, 1),
           "bytes_sent_total_mib": round(total / MiB, 1), "bytes_sent_again_mib": round((total - size) / MiB, 2),
           "media_completed": completed, "remote_uploads_created": created}
    print(f"  resume {method:<16} killed after {row['killed_after_mib']:>7.1f} MiB, sent "
          f"{row['bytes_sent_total_mib']:>7.1f} MiB in all, {row['bytes_sent_again_mib']:>7.2f} again; "
          f"{created} created, {completed} completed", flush=True)
    return row


def rss_row(method: str, size_mib: float, timed: Mapping[str, Any], idle: Mapping[str, float]) -> dict[str, Any]:
    """An ``rss_by_size`` entry from a timed row: peak RSS, and above the same program doing nothing."""
    base = next((v for k, v in idle.items() if method.startswith(k)), None)
    peak = timed["peak_rss_mib"]
    return {"method": method, "size_mib": size_mib, "peak_rss_mib": peak,
            "above_idle_mib": round(max(peak - base, 0), 1) if base is not None else None,
            "seconds": timed["median_seconds"]}


def versions(api_video: bool) -> dict[str, str]:
    """chunkup (with its commit), Airflow, Python, curl and, where compared, the api.video client."""
    try:
        git = ["git", "-C", str(BENCH.parent)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        if subprocess.run([*git, "status", "--porcelain", "--", "airflow_provider_chunkup"], capture_output=True,
                          text=True, check=True).stdout.strip():
            commit += " + uncommitted changes"
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    chunkup = importlib.metadata.version("airflow-provider-chunkup") + (f" ({commit})" if commit else "")
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()[1]
    out = {"chunkup": chunkup, "airflow": importlib.metadata.version("apache-airflow"),
           "python": platform.python_version(), "curl": curl, "httpx": importlib.metadata.version("httpx")}
    if api_video:
        out["api.video"] = subprocess.run(
            [str(PEERS_PYTHON), "-c", "import importlib.metadata as m; print(m.version('api.video'))"],
            capture_output=True, text=True, check=True).stdout.strip()
    return out


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "cpu_model": model, "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)}


def write_report(name: str, rows: list[dict[str, Any]], output: Path, *, idle_rss_mib: Mapping[str, float],
                 rss_by_size: list[dict[str, Any]], resume: list[dict[str, Any]], versions: Mapping[str, str],
                 settings: Mapping[str, Any]) -> None:
    """Print the tables and write the JSON (rows as ``common.report`` shapes them, plus RSS and resume)."""
    print(f"\n{'latency':>8} {'size':>10} {'method':<20} {'median s':>9} {'MiB/s':>7} {'time/curl':>9} "
          f"{'client CPU s':>12} {'peak RSS':>9}")
    for r in rows:
        rss = f"{r['peak_rss_mib']:.0f} MiB" if r["peak_rss_mib"] else "-"
        latency = f"{r['latency_ms']} ms" if "latency_ms" in r else "-"
        print(f"{latency:>8} {r['size_mib']:>6g} MiB {r['method']:<20} {r['median_seconds']:>9.3f} "
              f"{r['mib_per_second']:>7.1f} {r['time_vs_curl']:>9.2f} {r['client_cpu_seconds']:>12.2f} {rss:>9}")
    print(f"\n{'size':>10} {'method':<20} {'peak RSS':>9} {'+upload':>8} {'seconds':>8}")
    for r in rss_by_size:
        extra = f"{r['above_idle_mib']:.0f} MiB" if r.get("above_idle_mib") is not None else "-"
        print(f"{r['size_mib']:>6g} MiB {r['method']:<20} {r['peak_rss_mib']:>5.0f} MiB {extra:>8} "
              f"{r['seconds']:>8.2f}")
    print(f"\n{'method':<20} {'size':>10} {'killed after':>13} {'sent in all':>12} {'sent again':>11} "
          f"{'completed':>9} {'created':>8}")
    for r in resume:
        print(f"{r['method']:<20} {r['size_mib']:>6g} MiB {r['killed_after_mib']:>9.1f} MiB "
              f"{r['bytes_sent_total_mib']:>8.1f} MiB {r['bytes_sent_again_mib']:>7.2f} MiB "
              f"{r['media_completed']:>9} {r['remote_uploads_created']:>8}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
        "versions": dict(versions), **settings, "idle_rss_mib": {k: round(v, 1) for k, v in idle_rss_mib.items()},
        "results": rows, "rss_by_size": rss_by_size, "resume": resume,
    }, indent=2) + "\n")
    print(f"\nwritten to {output}")
