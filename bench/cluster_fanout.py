"""Cluster benchmark: what a second Celery worker (and more mapped appends) buys on a real Airflow cluster.

    .venv/bin/python bench/cluster_fanout.py [--quick] [--objects 24] [--split-mib 512] [--pairs 3]
                                             [--loopback-pairs 1] [--split-pairs 1] [--latency-ms 100]

Starts its own cluster (``bash .ci/cluster up`` in ``.cluster-bench/``, or ``--cluster-dir``: PostgreSQL,
Redis, api-server, scheduler, dag-processor, triggerer, Celery workers ``worker-a`` and ``worker-b`` with
``--concurrency 2`` each, chunkup-emulator, s3rver) and stops it at the end, whatever happens. Measured
under two network conditions, in one run: ``--latency-ms`` (a ``delay`` fault on every request to the
emulator: the upload API across a network, where waiting, not the CPU, bounds a task) and bare loopback.

1. Fan-out: ``--objects`` S3 objects of 8 to 40 MiB (as tests/cluster/test_fanout.py) through
   ``chunkup_s3_fanout`` to api.video (8 MiB parts, 1 to 5 per object, so the latency weighs on each;
   ``max_in_flight=2`` per task; pool ``chunkup_apivideo``, 8 slots), on 1 worker against 2. For 1
   worker, worker-b stops consuming the ``default`` queue through Celery's remote control
   (``cancel_consumer``; ``add_consumer`` gives it back): no process restarts between runs. Timed:
   the whole run (DAG run queued to succeeded: list, uploads, and the deferrable sensors that wait
   until each video is playable, as a user sees it) and the uploads' span (first upload task's start
   to the last one's end, from the task instances), so scheduling overhead shows apart.
2. Split: one ``--split-mib`` file on the shared disk through ``chunkup_split_upload`` to X v2
   (``chunkup_x_default``, 4 MiB segments) and to api.video (16 MiB parts), with 1 mapped append
   against 4 (both workers consuming). Timed: the whole run and the appends' span.
3. Memory: RSS and PSS (``/proc/<pid>/smaps_rollup``) of each component, summed over its process
   session (a worker's session holds its Celery pool and the task processes it started), sampled
   in a thread every 0.5 s (PSS every 3 s during runs: reading it costs CPU): idle after start-up,
   the peak during the fan-outs, and idle at the end.

Runs are interleaved (1 worker, 2 workers, 1, 2 ...; 1 append, 4 appends, ...) so drift in machine load
hits both alike; tables give medians and ratios to the 1-worker (1-append) median of the same run.
Every upload is checked byte-exact at the emulator, then its files there are deleted. The emulator's
rate limits are lifted for the run (api.video allows 100 source uploads a minute: the bench would
measure 429 waits otherwise). Results go to ``bench/results/cluster_fanout.json`` (``--quick``: a temp
file) with the machine, its load average, the versions and the date. Needs root, as ``.ci/cluster`` does.
Another cluster running on the machine distorts every figure: the load averages in the JSON tell.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "cluster"))

from cluster_client import Cluster, ClusterError, wait_for  # noqa: E402

MiB = 1024 * 1024
FANOUT_DAG = "chunkup_s3_fanout"
FANOUT_CHUNK = 8 * 1024 * 1024
"""api.video parts of 8 MiB: 1 to 5 per object, so the per-request latency weighs on every upload."""
SPLIT_DAG = "chunkup_split_upload"
INSPECT = {"x": "/_emulator/x/media", "apivideo": "/_emulator/apivideo/videos"}
SPLITS = {"x": ("X v2", "chunkup_x_default", None), "apivideo": ("api.video", "chunkup_apivideo_default", 16 * MiB)}
"""api -> (label, connection, chunk_size param: None is the API's default, 4 MiB for X)."""
NO_RATE_LIMITS = {"x": {"rate_limit": 10**9, "status_rate_limit": 10**9, "enforce_size_limits": False},
                  "apivideo": {"upload_rate_limit": 10**9, "write_rate_limit": 10**9, "read_rate_limit": 10**9}}
RUN_TIMEOUT = 1800


class Stop(Exception):
    """SIGTERM or SIGHUP: unwind so that the cluster is stopped."""


def _stop(signum: int, _frame: Any) -> None:
    raise Stop(f"signal {signum}")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ts(value: str) -> float:
    return datetime.datetime.fromisoformat(value).timestamp()


# -- the cluster --------------------------------------------------------------------------------------


def cluster_command(directory: Path, action: str) -> None:
    done = subprocess.run(["bash", str(ROOT / ".ci" / "cluster"), action],
                          env={**os.environ, "CHUNKUP_CLUSTER_DIR": str(directory)},
                          stdout=sys.stderr, stderr=sys.stderr)
    if done.returncode:
        raise RuntimeError(f"bash .ci/cluster {action} failed ({done.returncode}) for {directory}")


def live_sessions(directory: Path) -> list[int]:
    """Sessions of a cluster already started from ``directory`` that still have a process."""
    sids = []
    for pid_file in (directory / "pids").glob("*"):
        try:
            sids.append(int(pid_file.read_text()))
        except (OSError, ValueError):
            continue
    running = {session_of(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    return [s for s in sids if s in running]


def session_of(pid: int) -> int | None:
    return (parent_and_session(pid) or (0, None))[1]


def parent_and_session(pid: int) -> tuple[int, int] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # state ppid pgrp session ...
    return int(fields[1]), int(fields[3])


class Workers:
    """Worker-b on or off the ``default`` queue, through Celery's remote control (no restart)."""

    def __init__(self, redis_port: int) -> None:
        from celery import Celery

        self.app = Celery(broker=f"redis://127.0.0.1:{redis_port}/0")
        names = [name for reply in self.app.control.ping(timeout=5) for name in reply]
        self.names = {name.split("@")[0]: name for name in names}
        if not {"worker-a", "worker-b"} <= set(self.names):
            raise ClusterError(f"both workers should answer a ping; got {names}")

    def queues(self, worker: str) -> set[str]:
        name = self.names[worker]
        replies = self.app.control.inspect(destination=[name], timeout=5).active_queues() or {}
        return {q["name"] for q in replies.get(name, [])}

    def use(self, count: int) -> None:
        """``count`` (1 or 2) workers consume ``default``: worker-a always, worker-b for 2."""
        b = self.names["worker-b"]
        if count == 1:
            self.app.control.cancel_consumer("default", destination=[b], reply=True, timeout=5)
        else:
            self.app.control.add_consumer("default", destination=[b], reply=True, timeout=5)
        wait_for(f"worker-b {'on' if count == 2 else 'off'} the default queue",
                 lambda: ("default" in self.queues("worker-b")) == (count == 2), 30)
        if "default" not in self.queues("worker-a"):
            raise ClusterError("worker-a does not consume the default queue")

    def close(self) -> None:
        self.app.close()


# -- memory -------------------------------------------------------------------------------------------


class Memory:
    """RSS and PSS (MiB) of each component's process session, sampled every ``interval`` s in a thread.

    RSS summed over a session counts pages its processes share (forked Celery pool and task processes)
    once per process; PSS splits each shared page between its sharers, so PSS sums add up. PostgreSQL
    gives each backend a session of its own: it is the postmaster and its children. RSS (``statm``) is
    cheap; PSS (``smaps_rollup``, a walk of each process's page tables: 3-8 ms of CPU per Airflow
    process) is read every ``pss_every``-th sample during runs, and at every idle sample, so that the
    sampler takes little CPU from the cluster (its CPU time is reported). Samples only inside windows.
    """

    def __init__(self, cluster: Cluster, interval: float = 0.5, pss_every: int = 6) -> None:
        self.sessions: dict[int, str] = {}
        for pid_file in sorted((cluster.dir / "pids").glob("*")):
            self.sessions[int(pid_file.read_text())] = pid_file.name
        postmaster = cluster.dir / "pg" / "data" / "postmaster.pid"
        self.postmaster = int(postmaster.read_text().split()[0]) if postmaster.exists() else -1
        self.components = sorted([*self.sessions.values(), *(["postgres"] if self.postmaster > 0 else [])])
        self.interval = interval
        self.pss_every = pss_every
        self.page_mib = os.sysconf("SC_PAGE_SIZE") / MiB
        self.label: str | None = None
        self.peaks: dict[str, dict[str, dict[str, float]]] = {}
        self.samples: dict[str, list[dict[str, dict[str, Any]]]] = {}
        self.sampler_cpu_seconds = 0.0
        self.samples_taken = 0
        self.load_max = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)

    def sample(self, pss: bool) -> dict[str, dict[str, Any]]:
        """Per component: processes, RSS and (``pss``) PSS; ``pss_mib`` is None when not read."""
        totals: dict[str, dict[str, Any]] = {c: {"rss_mib": 0.0, "pss_mib": 0.0 if pss else None, "processes": 0}
                                             for c in self.components}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            ids = parent_and_session(pid)
            if ids is None:
                continue
            component = "postgres" if self.postmaster in (pid, ids[0]) else self.sessions.get(ids[1])
            if component is None:
                continue
            try:
                rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self.page_mib
                if pss:
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                    line = next((x for x in rollup.splitlines() if x.startswith("Pss:")), "Pss: 0 kB")
            except OSError:  # gone meanwhile
                continue
            total = totals[component]
            total["rss_mib"] += rss
            if pss:
                total["pss_mib"] += int(line.split()[1]) / 1024
            total["processes"] += 1
        return totals

    def _loop(self) -> None:
        count = 0
        while not self._stop.wait(self.interval):
            label = self.label
            if label is None:
                continue
            pss = label.startswith("idle") or count % self.pss_every == 0
            count += 1
            cpu = time.thread_time()
            values = self.sample(pss)
            self.sampler_cpu_seconds += time.thread_time() - cpu
            self.samples_taken += 1
            self.load_max = max(self.load_max, os.getloadavg()[0])
            with self._lock:
                self.samples.setdefault(label, []).append(values)
                peaks = self.peaks.setdefault(label, {})
                for component, value in values.items():
                    peak = peaks.setdefault(component, {"rss_mib": 0.0, "pss_mib": 0.0, "processes": 0})
                    for key in peak:
                        if value[key] is not None:
                            peak[key] = max(peak[key], value[key])
                total = peaks.setdefault("total", {"rss_mib": 0.0, "pss_mib": 0.0})
                total["rss_mib"] = max(total["rss_mib"], sum(v["rss_mib"] for v in values.values()))
                if pss:
                    total["pss_mib"] = max(total["pss_mib"], sum(v["pss_mib"] for v in values.values()))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    @contextmanager
    def window(self, label: str) -> Iterator[None]:
        """Samples taken inside the block are kept under ``label``."""
        with self._lock:
            self.label = label
        try:
            yield
        finally:
            with self._lock:
                self.label = None

    def idle(self, label: str, seconds: float) -> dict[str, dict[str, float]]:
        """Median of each component over ``seconds`` of a quiet cluster."""
        with self.window(label):
            time.sleep(seconds)
        samples = self.samples.get(label, [])  # PSS read at every idle sample
        return {c: {"processes": round(statistics.median(s[c]["processes"] for s in samples)),
                    **{key: round(statistics.median(s[c][key] for s in samples), 1) for key in ("rss_mib", "pss_mib")}}
                for c in self.components}

    def peak(self, labels: list[str]) -> dict[str, dict[str, float]]:
        """Each component's peak over the windows ``labels`` (and the peak of the sum, as ``total``)."""
        out: dict[str, dict[str, float]] = {}
        for label in labels:
            for component, value in self.peaks.get(label, {}).items():
                peak = out.setdefault(component, dict.fromkeys(value, 0.0))
                for key in value:
                    peak[key] = round(max(peak[key], value[key]), 1)
        return out


# -- runs ---------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, cluster: Cluster, workers: Workers, memory: Memory) -> None:
        self.cluster = cluster
        self.workers = workers
        self.memory = memory
        self.emulator_dir = cluster.dir / "emulator"

    @contextmanager
    def network(self, latency_ms: int) -> Iterator[None]:
        """Every request to the emulator's APIs answered ``latency_ms`` later (control endpoints never)."""
        self.cluster.emulator.delete("/_emulator/faults").raise_for_status()
        if latency_ms:
            self.cluster.emulator.post("/_emulator/faults", json={
                "match": ".", "action": "delay", "delay_secs": latency_ms / 1000, "times": 0,
                "delay_secs_per_mib": 1 / LINK_MIB_S if LINK_MIB_S else 0}).raise_for_status()
        try:
            yield
        finally:
            self.cluster.emulator.delete("/_emulator/faults").raise_for_status()

    def remote(self, api: str) -> set[str]:
        return {item.get("id") or item.get("videoId") for item in self.cluster.emulator_get(INSPECT[api])}

    def check_and_discard(self, api: str, media: set[str], expected: Counter[str]) -> None:
        """The emulator holds exactly the expected bytes; then its files of these uploads go (disk)."""
        got = Counter(self.cluster.emulator_get(f"{INSPECT[api]}/{m}")["sha256"] for m in media)
        if got != expected:
            raise AssertionError(f"{api}: the emulator received other bytes than were sent ({len(media)} uploads)")
        for m in media:
            for path in self.emulator_dir.glob(f"*/{m}.*"):
                if path.is_file():
                    path.unlink()

    def timed_run(self, dag_id: str, conf: dict[str, Any], task_id: str, label: str) -> dict[str, Any]:
        """Trigger, wait for success; the run's and the ``task_id`` instances' timings and hosts."""
        self.cluster.emulator.post("/_emulator/stats/reset").raise_for_status()
        with self.memory.window(label):
            run_id = self.cluster.trigger(dag_id, conf)
            run = self.cluster.expect_success(dag_id, run_id, timeout=RUN_TIMEOUT)
        stats = self.cluster.emulator_get("/_emulator/stats")
        tis = self.cluster.task_instances(dag_id, run_id)
        tasks = [ti for ti in tis if ti["task_id"] == task_id]
        starts = [ts(ti["start_date"]) for ti in tasks]
        ends = [ts(ti["end_date"]) for ti in tasks]
        queued, finished = ts(run["queued_at"]), ts(run["end_date"])
        busy = sum(e - s for s, e in zip(starts, ends, strict=True))
        span = max(ends) - min(starts)
        return {
            "run_id": run_id,
            "whole_seconds": round(finished - queued, 3),
            "span_seconds": round(span, 3),
            "before_first_seconds": round(min(starts) - queued, 3),
            "after_last_seconds": round(finished - max(ends), 3),
            "task_median_seconds": round(statistics.median(e - s for s, e in zip(starts, ends, strict=True)), 3),
            "task_busy_seconds": round(busy, 3),
            "hosts": dict(sorted(Counter(ti["hostname"] for ti in tasks).items())),
            "tries_beyond_first": sum(max(ti["try_number"] - 1, 0) for ti in tis),
            # Requests to the upload API (each delayed by the latency) and those it did not answer 2xx.
            "emulator_requests": stats["total_requests"],
            "emulator_non_2xx": sum(n for route in stats["routes"].values()
                                    for status, n in route["statuses"].items() if not status.startswith("2")),
        }

    def fanout(self, prefix: str, digests: Counter[str], workers: int, latency_ms: int,
               label: str | None = None) -> dict[str, Any]:
        self.workers.use(workers)
        before = self.remote("apivideo")
        label = label or f"fan-out {network(latency_ms)} {workers} worker{'s' if workers > 1 else ''}"
        result = self.timed_run(FANOUT_DAG, {"prefix": f"s3://{prefix}", "chunk_size": FANOUT_CHUNK}, "upload",
                                label)
        slots = 2 * workers
        result["slot_use"] = round(result["task_busy_seconds"] / (result["span_seconds"] * slots), 3)
        if workers == 1 and set(result["hosts"]) != {"worker-a"}:
            raise AssertionError(f"1 worker, yet uploads ran on {result['hosts']}")
        self.check_and_discard("apivideo", self.remote("apivideo") - before, digests)
        log(f"fan-out {network(latency_ms)}, {workers} worker(s): run {result['whole_seconds']:.1f} s, uploads "
            f"{result['span_seconds']:.1f} s, on {result['hosts']}{distorted(result)}")
        return result

    def split(self, api: str, path: Path, sha: str, parts: int, latency_ms: int) -> dict[str, Any]:
        _, conn_id, chunk_size = SPLITS[api]
        before = self.remote(api)
        conf = {"source": str(path), "conn_id": conn_id, "source_conn_id": None, "chunk_size": chunk_size,
                "parts": parts}
        result = self.timed_run(SPLIT_DAG, conf, "append", f"split {api} {network(latency_ms)} {parts} appends")
        self.check_and_discard(api, self.remote(api) - before, Counter([sha]))
        log(f"split {api} {network(latency_ms)}, {parts} append(s): run {result['whole_seconds']:.1f} s, appends "
            f"{result['span_seconds']:.1f} s, on {result['hosts']}{distorted(result)}")
        return result


def distorted(result: dict[str, Any]) -> str:
    """A warning for the log when retries or API errors (429s, 5xx) went into a run's time."""
    notes = [f"{n} {what}" for n, what in ((result["tries_beyond_first"], "task retries"),
                                           (result["emulator_non_2xx"], "non-2xx answers")) if n]
    return f" -- {', '.join(notes)}: this run's time includes them" if notes else ""


def put_objects(cluster: Cluster, prefix: str, count: int, size: int | None = None) -> Counter[str]:
    """``count`` objects of 8 to 40 MiB (or ``size`` bytes) under ``prefix`` in the cluster's S3; their sha256s."""
    s3 = cluster.s3()
    digests: Counter[str] = Counter()
    for i in range(count):
        data = os.urandom(size or 8 * MiB + i * (32 * MiB // max(count - 1, 1)) + i)
        digests[hashlib.sha256(data).hexdigest()] += 1
        s3.pipe_file(f"{prefix}clip-{i:02d}.mp4", data)
        del data
    return digests


def shared_file(cluster: Cluster, size_mib: int) -> tuple[Path, str]:
    path = cluster.dir / "shared" / f"bench-split-{size_mib}.mp4"
    path.parent.mkdir(exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as f:
        for done in range(0, size_mib, 8):
            piece = os.urandom(min(8, size_mib - done) * MiB)
            digest.update(piece)
            f.write(piece)
    return path, digest.hexdigest()


# -- report -------------------------------------------------------------------------------------------

DETAIL_KEYS = ("before_first_seconds", "span_seconds", "after_last_seconds", "task_median_seconds", "slot_use",
               "emulator_requests")


def summarize(runs: dict[str, list[dict[str, Any]]], latency_ms: int, workload: str, span: str) -> list[dict]:
    """Rows of medians for the whole run and the tasks' span; ratios to the first variant (the baseline)."""
    baseline = next(iter(runs))
    rows = []
    for timing, key in (("whole run", "whole_seconds"), (span, "span_seconds")):
        base = statistics.median(r[key] for r in runs[baseline])
        for variant, results in runs.items():
            median = statistics.median(r[key] for r in results)
            hosts: Counter[str] = Counter()
            for r in results:
                hosts.update(r["hosts"])
            rows.append({
                "latency_ms": latency_ms, "workload": workload, "timing": timing, "method": variant,
                "median_seconds": round(median, 3), "time_vs_baseline": round(median / base, 3),
                "speedup_vs_baseline": round(base / median, 2), "baseline": baseline,
                "runs": [round(r[key], 3) for r in results],
                **{f"median_{k}": round(statistics.median(r[k] for r in results), 3)
                   for k in DETAIL_KEYS if all(k in r for r in results)},
                "tasks_per_host": dict(sorted(hosts.items())),
            })
    return rows


LINK_MIB_S: float = 0.0
"""``--link-mib-s``: with latency, each connection also moves its body at this rate (0: latency alone)."""


def network(latency_ms: int) -> str:
    if not latency_ms:
        return "loopback"
    return f"{latency_ms} ms/req" + (f" + {LINK_MIB_S:g} MiB/s" if LINK_MIB_S else "")


def print_tables(rows: list[dict[str, Any]], memory: dict[str, Any]) -> None:
    print(f"\n{'network':>10}  {'workload':<29} {'timing':<9} {'method':<9} {'median s':>8} {'time/base':>9} "
          f"{'speedup':>7}  runs (s)")
    for r in rows:
        print(f"{network(r['latency_ms']):>10}  {r['workload']:<29} {r['timing']:<9} {r['method']:<9} "
              f"{r['median_seconds']:>8.2f} {r['time_vs_baseline']:>9.2f} {r['speedup_vs_baseline']:>6.2f}x  "
              f"{' '.join(f'{x:.1f}' for x in r['runs'])}")
    print("\nwhere a run's time goes (medians, s): queued -> first upload/append starts | their span | last one "
          "ends -> run succeeded;\ntask = median upload/append task duration; slots = their task time / (span x 2 "
          "slots per worker): the rest\nis other tasks (sensors) and gaps; req = requests to the upload API per run")
    print(f"{'network':>10}  {'workload':<29} {'method':<9} {'to first':>8} {'span':>6} {'after':>6} "
          f"{'task':>6} {'slots':>5} {'req':>5}  tasks per host (all runs)")
    for r in rows:
        if r["timing"] == "whole run":
            continue
        slot = f"{r['median_slot_use']:.2f}" if "median_slot_use" in r else "-"
        hosts = ", ".join(f"{h} {n}" for h, n in r["tasks_per_host"].items())
        print(f"{network(r['latency_ms']):>10}  {r['workload']:<29} {r['method']:<9} "
              f"{r['median_before_first_seconds']:>8.1f} {r['median_span_seconds']:>6.1f} "
              f"{r['median_after_last_seconds']:>6.1f} {r['median_task_median_seconds']:>6.1f} {slot:>5} "
              f"{r['median_emulator_requests']:>5.0f}  {hosts}")
    idle, after, peak = memory["idle"], memory["idle_after"], memory["peak_fanout"]
    print(f"\nmemory (MiB) per component, its process session summed: idle after start-up, peak over every "
          f"fan-out run, idle at the end\n{'component':<14} {'procs':>5} {'RSS':>6} {'PSS':>6} | {'procs':>5} "
          f"{'RSS':>6} {'PSS':>6} | {'procs':>5} {'RSS':>6} {'PSS':>6}")
    for component in [*sorted(idle), "total"]:
        cells = []
        for table in (idle, peak, after):
            if component == "total" and table is not peak:  # the sum of medians, as the peak's "total" is a sample's
                value = {"processes": sum(v["processes"] for v in table.values()),
                         "rss_mib": sum(v["rss_mib"] for v in table.values()),
                         "pss_mib": sum(v["pss_mib"] for v in table.values())}
            else:
                value = table.get(component, {})
            cells.append(f"{value.get('processes', ''):>5} {value.get('rss_mib', 0):>6.0f} "
                         f"{value.get('pss_mib', 0):>6.0f}")
        print(f"{component:<14} " + " | ".join(cells))


def versions(cluster_dir: Path) -> dict[str, str]:
    names = {"chunkup": "airflow-provider-chunkup", "airflow": "apache-airflow",
             "airflow_celery": "apache-airflow-providers-celery", "celery": "celery", "httpx": "httpx"}
    out = {key: importlib.metadata.version(dist) for key, dist in names.items()}
    out["python"] = platform.python_version()
    for tool, cmd in (("redis", ["redis-server", "--version"]), ("node", ["node", "--version"])):
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        out[tool] = next((w.removeprefix("v=") for w in text.split() if w.startswith("v=")), text.strip())
    pg_bin = cluster_dir / "pg" / "bin"
    if pg_bin.exists():
        out["postgresql"] = Path(pg_bin.read_text().strip()).parent.name
    return out


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "cpu_model": model, "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)}


# -- main ---------------------------------------------------------------------------------------------


def measure(args: argparse.Namespace, cluster: Cluster) -> dict[str, Any]:
    workers = Workers(cluster.info["redis_port"])
    memory = Memory(cluster)
    memory.start()
    try:
        cluster.emulator.patch("/_emulator/config", json=NO_RATE_LIMITS).raise_for_status()
        bench = Bench(cluster, workers, memory)
        log(f"{args.objects} S3 objects of 8 to 40 MiB, a {args.split_mib} MiB file on the shared disk")
        prefix = f"media/bench-{os.urandom(4).hex()}/"
        digests = put_objects(cluster, prefix, args.objects)
        warm_prefix = f"media/bench-warm-{os.urandom(4).hex()}/"
        warm_digests = put_objects(cluster, warm_prefix, 4, size=1 * MiB)
        big, big_sha = shared_file(cluster, args.split_mib)
        log("idle memory (5 s)")
        idle = memory.idle("idle", 5)
        # The first task on each worker pays cold caches (imports, DAG file): one small unmeasured fan-out.
        log("warm-up: 4 objects of 1 MiB over both workers (not measured)")
        with bench.network(0):
            bench.fanout(warm_prefix, warm_digests, 2, 0, label="warm-up")

        runs: dict[str, Any] = {}
        rows: list[dict[str, Any]] = []
        conditions = [(args.latency_ms, args.pairs), (0, args.loopback_pairs)] if args.latency_ms else [(0, args.pairs)]
        fanout_labels = []
        for latency_ms, pairs in conditions:
            if not pairs:
                continue
            with bench.network(latency_ms):
                fan: dict[str, list[dict[str, Any]]] = {"1 worker": [], "2 workers": []}
                for _ in range(pairs):  # interleaved: 1, 2, 1, 2 ...
                    fan["1 worker"].append(bench.fanout(prefix, digests, 1, latency_ms))
                    fan["2 workers"].append(bench.fanout(prefix, digests, 2, latency_ms))
                fanout_labels += [f"fan-out {network(latency_ms)} 1 worker", f"fan-out {network(latency_ms)} 2 workers"]
                rows += summarize(fan, latency_ms, f"fan-out {args.objects} objects", "uploads")
                runs[f"fanout_{latency_ms}ms"] = fan
                workers.use(2)
                for api, (label, _, _) in SPLITS.items() if args.split_pairs else ():
                    split: dict[str, list[dict[str, Any]]] = {"1 append": [], "4 appends": []}
                    for _ in range(args.split_pairs):
                        split["1 append"].append(bench.split(api, big, big_sha, 1, latency_ms))
                        split["4 appends"].append(bench.split(api, big, big_sha, 4, latency_ms))
                    rows += summarize(split, latency_ms, f"split {args.split_mib} MiB, {label}", "appends")
                    runs[f"split_{api}_{latency_ms}ms"] = split
        log("idle memory at the end (5 s)")
        idle_after = memory.idle("idle at the end", 5)
        big.unlink()
        s3 = cluster.s3()
        for p in (prefix, warm_prefix):
            s3.rm(p, recursive=True)
        memory_report = {
            "idle": idle,
            "idle_after": idle_after,
            "peak_fanout": memory.peak(fanout_labels),
            "peak_by_run": {label: memory.peak([label]) for label in memory.peaks if not label.startswith("idle")},
            "sample_interval_seconds": memory.interval,
            "pss_every_nth_sample_in_runs": memory.pss_every,
            "samples": memory.samples_taken,
            # CPU the sampler took, as a share of one core over the time it sampled.
            "sampler_cpu_share": round(memory.sampler_cpu_seconds / max(memory.samples_taken * memory.interval, 1e-9),
                                       3),
        }
        measured_load = round(memory.load_max, 2)
        return {"rows": rows, "runs": runs, "memory": memory_report, "load_average_1min_max": measured_load}
    finally:
        memory.stop()
        try:
            workers.use(2)
        except Exception as e:  # the cluster goes down next anyway
            log(f"could not give worker-b its queue back: {e}")
        workers.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="6 objects, a 64 MiB split, one pair of each: to check the script")
    parser.add_argument("--objects", type=int, help="S3 objects in the fan-out (default 24)")
    parser.add_argument("--split-mib", type=int, help="size of the split file (default 512)")
    parser.add_argument("--pairs", type=int, help="1-worker/2-worker fan-out pairs with latency (default 3)")
    parser.add_argument("--loopback-pairs", type=int, help="fan-out pairs on bare loopback (default 1)")
    parser.add_argument("--split-pairs", type=int, help="1-append/4-append pairs per API and network (default 1)")
    parser.add_argument("--link-mib-s", type=float, default=0.0,
                        help="with latency, also limit each connection to this many MiB/s (the emulator's "
                             "delay_secs_per_mib): a link whose bandwidth, not per-request latency, bounds an upload")
    parser.add_argument("--latency-ms", type=int, default=100,
                        help="delay on every emulator request (0: loopback only)")
    parser.add_argument("--cluster-dir", type=Path, default=ROOT / ".cluster-bench",
                        help="the bench's own cluster (default .cluster-bench; its name must contain 'bench': "
                             "`up` empties it)")
    parser.add_argument("--output", type=Path, help="default bench/results/cluster_fanout.json (--quick: a temp file)")
    args = parser.parse_args()
    small = args.quick
    args.objects = args.objects or (6 if small else 24)
    args.split_mib = args.split_mib or (64 if small else 512)
    args.pairs = args.pairs or (1 if small else 3)
    args.loopback_pairs = 1 if args.loopback_pairs is None else args.loopback_pairs  # 0 skips that case
    args.split_pairs = 1 if args.split_pairs is None else args.split_pairs
    global LINK_MIB_S
    LINK_MIB_S = args.link_mib_s
    if args.output is None:  # a quick check never overwrites the real results
        args.output = (Path(tempfile.gettempdir()) / "cluster_fanout_quick.json" if small
                       else HERE / "results" / "cluster_fanout.json")
    directory = args.cluster_dir.resolve()
    # `up` deletes its directory first and `down` stops whatever runs from it: never someone else's cluster.
    if "bench" not in directory.name:
        sys.exit(f"--cluster-dir {directory}: the name must contain 'bench' (the bench empties and stops it; "
                 "other clusters, such as .cluster, are not its to touch)")
    if live_sessions(directory):
        sys.exit(f"a cluster already runs from {directory}: stop it (CHUNKUP_CLUSTER_DIR={directory} "
                 "bash .ci/cluster down) or pick another --cluster-dir")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    load_before = os.getloadavg()
    started = time.monotonic()
    cluster = None
    log(f"starting the bench's cluster in {directory}")
    try:
        cluster_command(directory, "up")
        cluster = Cluster(directory)
        measured = measure(args, cluster)
    finally:
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):  # let nothing cut `down` short
            signal.signal(signum, signal.SIG_IGN)
        if cluster is not None:
            cluster.close()
        log("stopping the bench's cluster")
        cluster_command(directory, "down")

    rows = measured.pop("rows")
    print_tables(rows, measured["memory"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "cluster_fanout", "date": time.strftime("%Y-%m-%d"), "machine": machine(),
        "versions": versions(directory),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "settings": {"objects": args.objects, "object_mib": "8 to 40", "split_mib": args.split_mib,
                     "latency_ms": args.latency_ms, "link_mib_s_per_connection": args.link_mib_s or None,
                     "pairs": args.pairs, "loopback_pairs": args.loopback_pairs,
                     "split_pairs": args.split_pairs, "workers": "2 Celery workers, --concurrency 2 each",
                     "fanout": "chunkup_s3_fanout -> api.video, 8 MiB parts (1 to 5 per object), max_in_flight=2, "
                               "pool chunkup_apivideo 8 slots",
                     "split": "chunkup_split_upload, max_in_flight=2 per append, both workers; X v2 4 MiB "
                              "segments, api.video 16 MiB parts",
                     "emulator_rate_limits": "lifted", "quick": small},
        "total_seconds": round(time.monotonic() - started, 1),
        "results": rows, **measured,
    }, indent=2) + "\n")
    print(f"\nwritten to {args.output} ({time.monotonic() - started:.0f} s in all)")
    if load_before[0] > 1.0:
        print(f"\nWARNING: the machine was busy before the bench started its cluster (load average "
              f"{load_before[0]:.1f} on {os.cpu_count()} CPUs; {measured['load_average_1min_max']:.1f} at most "
              "during the runs): other processes took CPU from the cluster, and a second worker (more runnable "
              "processes) takes a larger share of it: these figures are distorted.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
