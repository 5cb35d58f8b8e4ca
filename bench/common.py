"""What every upload benchmark shares: the emulator in its own process, test files, a chunkup child
process that reports its peak RSS and CPU, curl runs, interleaved repetitions, and the report."""

from __future__ import annotations

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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

CHILD = textwrap.dedent("""
    import importlib, json, resource, sys, time
    module, name, path, kwargs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    hook_class = getattr(importlib.import_module(module), name)
    out = {"peak_rss_mib": None}
    if path != "-":
        hook = hook_class()
        hook.get_conn()
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        result = hook.upload(path, **kwargs)
        out["seconds"] = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        out["cpu_seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        out["sha256"] = result.sha256
        out["media_id"] = result.media_id
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


@dataclass
class Emulator:
    url: str
    work: Path

    def clear_received(self) -> None:
        """Drop what the emulator stored (the bench owns its data dir) to bound disk use between runs."""
        for item in (self.work / "emulator").glob("**/*"):
            if item.is_file():
                item.unlink()


@contextmanager
def emulator(config_patch: Mapping[str, Any], *args: str) -> Iterator[Emulator]:
    """``chunkup-emulator`` in its own process on a free loopback port, patched, stopped at exit."""
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-"))
    port_file = work / "port"
    proc = subprocess.Popen(
        [str(Path(PYTHON).with_name("chunkup-emulator")), "--port", "0", "--port-file", str(port_file),
         "--data-dir", str(work / "emulator"), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("emulator did not start")
        url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        httpx.patch(f"{url}/_emulator/config", json=dict(config_patch)).raise_for_status()
        yield Emulator(url, work)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            piece = os.urandom(min(left, 8 << 20))
            f.write(piece)
            left -= len(piece)


def split(path: Path, chunk: int, into: Path) -> list[Path]:
    """The file cut into ``chunk``-byte files, for curl (which sends one file per request)."""
    into.mkdir()
    subprocess.run(["split", "-b", str(chunk), "-d", "-a", "4", str(path), f"{into}/part-"], check=True)
    return sorted(into.iterdir())


def run_chunkup(hook: str, connection_env: Mapping[str, str], path: Path | str, **kwargs: Any) -> dict[str, Any]:
    """One upload by ``hook`` (``module:Class``) in a fresh process; its time, CPU and peak RSS."""
    module, name = hook.split(":")
    out = subprocess.run([PYTHON, "-c", CHILD, module, name, str(path), json.dumps(kwargs)],
                         env={**os.environ, **connection_env}, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"chunkup child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextmanager
def children_cpu() -> Iterator[dict[str, float]]:
    """CPU seconds spent by child processes (curl) reaped inside the block."""
    measured: dict[str, float] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    yield measured
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    measured["cpu_seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def curl(*args: str) -> str:
    done = subprocess.run(["curl", "-sS", "--fail-with-body", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"curl failed ({done.returncode}): {done.stdout[-300:]} {done.stderr[-300:]}")
    return done.stdout


Method = Callable[[Path, int, str], dict[str, Any]]
"""(file, size, sha256) -> {"seconds", "cpu_seconds", "media_id", "peak_rss_mib"?}."""


def measure(methods: Mapping[str, Method], sizes: list[int], repeats: int, emu: Emulator,
            received: Callable[[str], str | None], baseline: str, work: Path) -> list[dict[str, Any]]:
    """Every method on every size (bytes), ``repeats`` times interleaved; each upload checked byte-exact."""
    from airflow_provider_chunkup.sources import file_digest

    rows = []
    for size in sizes:
        size_mib = round(size / (1024 * 1024), 2)
        path = work / f"video-{size}.mp4"
        make_file(path, size)
        expected = file_digest(path)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in methods}
        for _ in range(repeats):  # interleaved, so drift in machine load hits every method alike
            for name, method in methods.items():
                run = method(path, size, expected)
                got = received(run["media_id"])
                if got != expected:
                    raise AssertionError(f"{name}: the emulator received other bytes ({got} != {expected})")
                runs[name].append(run)
                emu.clear_received()
        base = statistics.median(r["seconds"] for r in runs[baseline])
        for name, results in runs.items():
            median = statistics.median(r["seconds"] for r in results)
            rss = [r["peak_rss_mib"] for r in results if r.get("peak_rss_mib")]
            rows.append({
                "size_mib": size_mib, "method": name, "median_seconds": round(median, 3),
                "mib_per_second": round(size_mib / median, 1), "time_vs_" + baseline: round(median / base, 3),
                "client_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in results), 3),
                "peak_rss_mib": round(max(rss), 1) if rss else None,
                "runs": [round(r["seconds"], 3) for r in results],
            })
        path.unlink()
        for leftover in work.glob("parts-*"):
            shutil.rmtree(leftover)
    return rows


def report(name: str, rows: list[dict[str, Any]], baseline: str, idle_rss_mib: float, output: Path,
           settings: Mapping[str, Any]) -> None:
    ratio = "time_vs_" + baseline
    print(f"\n{'latency':>8} {'size':>9} {'method':<24} {'median s':>9} {'MiB/s':>8} {'time/' + baseline:>11} "
          f"{'client CPU s':>13} {'peak RSS':>9} {'+upload':>8}")
    for r in rows:
        rss = f"{r['peak_rss_mib']:.0f} MiB" if r["peak_rss_mib"] else "-"
        extra = f"{r['peak_rss_mib'] - idle_rss_mib:.0f} MiB" if r["peak_rss_mib"] else "-"
        print(f"{r.get('latency_ms', 0):>5} ms {r['size_mib']:>5g} MiB {r['method']:<24} "
              f"{r['median_seconds']:>9.2f} {r['mib_per_second']:>8.1f} "
              f"{r[ratio]:>11.2f} {r['client_cpu_seconds']:>13.2f} {rss:>9} {extra:>8}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": name, "date": time.strftime("%Y-%m-%d"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "idle_rss_mib": round(idle_rss_mib, 1), **settings, "results": rows,
    }, indent=2) + "\n")
    print(f"\nwritten to {output}")


def idle_rss(hook: str, connection_env: Mapping[str, str]) -> float:
    """Peak RSS of a child that imports the same modules and uploads nothing."""
    return float(run_chunkup(hook, connection_env, "-")["peak_rss_mib"])


def require_curl() -> None:
    if not shutil.which("curl"):
        sys.exit("curl is needed for the baseline")
