"""What every upload benchmark shares: the emulator in its own process, test files, a chunkup child
process that reports its peak RSS and CPU, curl runs, interleaved repetitions, and the report."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import ssl
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
from typing import IO, Any

import httpx

HERE = Path(__file__).resolve().parent
CPUS = frozenset(os.sched_getaffinity(0))
"""The CPUs the bench may use (taken before ``--pin`` splits them)."""
PYTHON = sys.executable
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
"""The peers' interpreter (tweepy, api.video's client...): kept apart from chunkup's dependencies."""

CA_ENV = "CHUNKUP_BENCH_CA"
"""A chunkup child given this PEM file trusts it (and only it): the emulator's bench certificate."""
CHECKPOINT_ENV = "CHUNKUP_BENCH_CHECKPOINT"
"""A chunkup child given this JSON file path checkpoints there, as a task does in its state store."""

CHILD = textwrap.dedent("""
    import importlib, json, os, resource, sys, time
    module, name, path, kwargs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    if os.environ.get("CHUNKUP_BENCH_CA"):
        # chunkup verifies TLS against certifi's bundle only: the bench's emulator certificate goes there.
        import certifi
        certifi.where = lambda: os.environ["CHUNKUP_BENCH_CA"]
    if os.environ.get("CHUNKUP_BENCH_CHECKPOINT"):
        from airflow_provider_chunkup.protocols.checkpoint import Checkpoint

        class JsonFileStore:  # a key-value store in one JSON file, replaced atomically: a kill never halves it
            def __init__(self, file):
                self.file = file

            def _all(self):
                if not os.path.exists(self.file):
                    return {}
                with open(self.file) as f:
                    return json.load(f)

            def _write(self, data):
                with open(self.file + ".tmp", "w") as f:
                    json.dump(data, f)
                os.replace(self.file + ".tmp", self.file)

            def get(self, key, default=None):
                return self._all().get(key, default)

            def set(self, key, value):
                self._write({**self._all(), key: value})

            def delete(self, key):
                self._write({k: v for k, v in self._all().items() if k != key})

        store = JsonFileStore(os.environ["CHUNKUP_BENCH_CHECKPOINT"])
        kwargs["checkpoint"] = Checkpoint(store, identity={"source": path, "hook": name})
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
    # VmHWM, not ru_maxrss: a spawned child's ru_maxrss starts at its parent's RSS (Linux keeps the
    # high-water mark of the forked image across exec), which would hide a child smaller than the bench.
    hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")]
    out["peak_rss_mib"] = int(hwm[0]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


@dataclass
class Emulator:
    url: str
    work: Path
    ca: Path | None = None
    """The certificate it serves (``tls=True``), for clients to trust."""
    pid: int | None = None

    def cpu_seconds(self) -> float:
        """CPU the emulator's process has used so far (all its threads), from ``/proc``; 0 where there is none."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """httpx's ``verify`` for talking to it."""
        return ssl.create_default_context(cafile=str(self.ca)) if self.ca else True

    def get(self, path: str) -> Any:
        """JSON of a GET on the emulator (``/_emulator/...`` inspection endpoints)."""
        response = httpx.get(f"{self.url}{path}", verify=self.verify, timeout=30)
        response.raise_for_status()
        return response.json()

    def clear_received(self) -> None:
        """Drop what the emulator stored (the bench owns its data dir) to bound disk use between runs."""
        for item in (self.work / "emulator").glob("**/*"):
            if item.is_file():
                item.unlink()


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and its key (PEM files in ``folder``), for the emulator's TLS."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def split_cores() -> tuple[set[int], set[int]]:
    """This process's CPUs in two halves: (the server's, the clients'). Needs at least two."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit("--pin needs at least 2 CPUs: one for the emulator, one for the clients")
    half = len(cpus) // 2
    return set(cpus[:half]), set(cpus[half:])


def add_pin_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pin", action="store_true",
        help="the emulator on half of the CPUs, the clients (chunkup, curl, peers) on the other half, as if "
             "the server were another machine: shows what of a client's cost is its own and what is contention; "
             "results go to <name>_pinned.json")


def pinned_output(output: Path, pin: bool) -> Path:
    """``output`` as given, or, with ``--pin``, the same name with ``_pinned`` (never the unpinned results)."""
    return output.with_name(f"{output.stem}_pinned{output.suffix}") if pin else output


@contextmanager
def emulator(config_patch: Mapping[str, Any], *args: str, tls: bool = False, pin: bool = False) -> Iterator[Emulator]:
    """``chunkup-emulator`` in its own process on a free loopback port, patched, stopped at exit.

    ``tls``: serve HTTPS with a throwaway self-signed certificate (``Emulator.ca``), for peers that only
    speak https; it lives in the emulator's temp dir and goes with it. ``pin``: the emulator runs on one half
    of the CPUs and this process (so every client it starts) on the other, until exit (:func:`split_cores`).
    """
    server_cores, client_cores = split_cores() if pin else (None, None)
    own_cores = os.sched_getaffinity(0)
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-"))
    port_file = work / "port"
    ca = None
    if tls:
        ca, key = self_signed_cert(work)
        args = (*args, "--tls-cert", str(ca), "--tls-key", str(key))
    proc = subprocess.Popen(
        [str(Path(PYTHON).with_name("chunkup-emulator")), "--port", "0", "--port-file", str(port_file),
         "--data-dir", str(work / "emulator"), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: os.sched_setaffinity(0, server_cores)) if server_cores else None,
    )
    if client_cores:
        os.sched_setaffinity(0, client_cores)
    try:
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("emulator did not start")
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port_file.read_text().strip()}"
        emu = Emulator(url, work, ca, proc.pid)
        httpx.patch(f"{url}/_emulator/config", json=dict(config_patch), verify=emu.verify).raise_for_status()
        yield emu
    finally:
        os.sched_setaffinity(0, own_cores)
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
                server_before = emu.cpu_seconds()
                run = method(path, size, expected)
                run["server_cpu_seconds"] = emu.cpu_seconds() - server_before
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
                "server_cpu_seconds": round(statistics.median(r["server_cpu_seconds"] for r in results), 2),
                # The least wall time this machine allows for that much CPU, client's and emulator's together.
                "cpu_floor_seconds": round(statistics.median(r["cpu_seconds"] + r["server_cpu_seconds"]
                                                             for r in results) / len(CPUS), 3),
                "peak_rss_mib": round(max(rss), 1) if rss else None,
                "runs": [round(r["seconds"], 3) for r in results],
            })
        path.unlink()
        for leftover in work.glob("parts-*"):
            shutil.rmtree(leftover)
    return rows


def report(name: str, rows: list[dict[str, Any]], baseline: str, idle_rss_mib: float, output: Path,
           settings: Mapping[str, Any], idle_by_method: Mapping[str, float] | None = None) -> None:
    """Print the table and write the JSON; ``+upload`` is peak RSS over ``idle_by_method[method]`` where
    given (peers idle smaller than chunkup with Airflow), else over ``idle_rss_mib``."""
    ratio = "time_vs_" + baseline
    print(f"\n{'latency':>8} {'size':>9} {'method':<24} {'median s':>9} {'MiB/s':>8} {'time/' + baseline:>11} "
          f"{'client CPU s':>13} {'peak RSS':>9} {'+upload':>8}")
    for r in rows:
        rss = f"{r['peak_rss_mib']:.0f} MiB" if r["peak_rss_mib"] else "-"
        idle = (idle_by_method or {}).get(r["method"], idle_rss_mib)
        extra = f"{r['peak_rss_mib'] - idle:.0f} MiB" if r["peak_rss_mib"] else "-"
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


@dataclass
class Measured:
    """A finished child process: its output and its own resource use (``wait4``, not all children's)."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float


@dataclass
class Child:
    """A process started by :func:`start_process`, in its own process group, output in temp files."""

    proc: subprocess.Popen[bytes]
    output: tuple[IO[bytes], IO[bytes]]
    started: float

    def wait(self) -> Measured:
        """Reap it with ``wait4``: its CPU and peak RSS (the largest of it and the children it reaped)."""
        _, status, usage = os.wait4(self.proc.pid, 0)
        seconds = time.perf_counter() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        texts = []
        for stream in self.output:
            stream.seek(0)
            texts.append(stream.read().decode(errors="replace"))
            stream.close()
        return Measured(self.proc.returncode, texts[0], texts[1], seconds, usage.ru_utime + usage.ru_stime,
                        usage.ru_maxrss / 1024)

    def kill(self) -> None:
        """SIGKILL its process group (it and the processes it started), and reap it."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.wait()


def start_process(cmd: list[str], env: Mapping[str, str] | None = None) -> Child:
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by Child.wait()
    err = tempfile.TemporaryFile()  # noqa: SIM115
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=err, start_new_session=True)
    return Child(proc, (out, err), started)


def run_measured(cmd: list[str], env: Mapping[str, str] | None = None) -> Measured:
    """Run ``cmd`` to the end; its wall time, CPU and peak RSS. Fails loudly on a non-zero exit."""
    done = start_process(cmd, env).wait()
    if done.returncode:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-2000:]}")
    return done


def chunkup_command(hook: str, path: Path | str, **kwargs: Any) -> list[str]:
    """The command :func:`run_chunkup` runs, for callers that start it themselves (to kill it)."""
    module, name = hook.split(":")
    return [PYTHON, "-c", CHILD, module, name, str(path), json.dumps(kwargs)]


def route_bytes(emu: Emulator, *routes: str) -> int:
    """Request body bytes the emulator read on ``routes`` (``"POST /path COMMAND"``) since its stats reset."""
    stats = emu.get("/_emulator/stats")["routes"]
    return sum(int(stats.get(route, {}).get("body_bytes", 0)) for route in routes)


def kill_when(child: Child, received: Callable[[], int], at_bytes: int, timeout: float = 600.0) -> int:
    """SIGKILL ``child``'s process group once ``received()`` reaches ``at_bytes``; what had arrived by then.

    The count is read again until it settles, so requests the kill cut short are counted with the bytes
    that reached the server.
    """
    deadline = time.monotonic() + timeout
    while received() < at_bytes:
        if child.proc.poll() is not None:
            raise RuntimeError(f"the upload ended (exit {child.proc.returncode}) before {at_bytes} bytes arrived")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{at_bytes} bytes did not arrive within {timeout} s")
        time.sleep(0.01)
    child.kill()
    last, now = -1, received()
    while now != last:
        time.sleep(0.2)
        last, now = now, received()
    return now


def mib(n: float) -> float:
    return round(n / (1024 * 1024), 2)
