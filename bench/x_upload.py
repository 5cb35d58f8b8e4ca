"""X upload benchmark: chunkup against tweepy's ``API.chunked_upload`` and curl, in one run.

    .venv/bin/python bench/x_upload.py [--repeats 3] [--quick]

Every method speaks X API v1.1 (tweepy speaks nothing else) to the X emulator in its own process on
loopback, over HTTPS with a throwaway self-signed certificate (tweepy always uses https), with the
same file and the same chunks. tweepy's chunk size is a parameter (``chunk_size``: 1 MiB by default, at
most 5 MiB), so every method uses 4 MiB (chunkup's X default), raised to size/1000 where X's 1000-segment
limit needs it (4 GiB), as tweepy and chunkup both do on their own.

- ``curl``: ``peers/x_curl_upload.sh``: INIT, one ``curl`` sending every segment over one kept-alive
  connection (``--next``), FINALIZE; OAuth 2.0 bearer (curl cannot sign OAuth 1.0a). The segments are
  cut with ``split`` beforehand, untimed: the baseline.
- ``tweepy``: ``peers/tweepy_upload.py`` in the peers' venv: ``chunked_upload`` with OAuth 1.0a,
  pointed at the emulator by its ``upload_host``, trusting the certificate via ``REQUESTS_CA_BUNDLE``.
- ``chunkup x1`` / ``chunkup x3``: ``XMediaUploadHook.upload`` (``api_version: v1.1``, OAuth 1.0a) with
  one / three segments in flight, in a fresh child process.

Nobody polls STATUS after FINALIZE (tweepy with ``wait_for_async_finalize=False``): chunkup's upload
returns at FINALIZE too. Each upload is checked byte-exact on the emulator. Measured:

1. time: sizes 256 MiB and 1 GiB, ``--repeats`` interleaved repetitions, medians and ratios to curl;
2. peak RSS against file size (256 MiB, 1 GiB, 4 GiB), one run per size beyond the timed ones;
3. resume: each method's process is SIGKILLed once the emulator has received half of a 1 GiB file,
   then started again as a user would (chunkup: the same call, with a ``Checkpoint`` in a JSON file
   standing in for Airflow's task state store; tweepy and curl keep no state, so from the start).
   The emulator's request counters say how many bytes were sent in all and again.

Everything goes to ``bench/results/x_upload.json`` with the machine, versions and date.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    CA_ENV,
    CHECKPOINT_ENV,
    HERE,
    PEERS_PYTHON,
    Emulator,
    Measured,
    add_pin_argument,
    chunkup_command,
    emulator,
    idle_rss,
    kill_when,
    make_file,
    measure,
    mib,
    pinned_output,
    report,
    require_curl,
    route_bytes,
    run_measured,
    split,
    start_process,
)

MiB = 1024 * 1024
CHUNK = 4 * MiB
MAX_SEGMENTS = 1000  # X's segment_index is 0..999
HOOK = "airflow_provider_chunkup.hooks.x:XMediaUploadHook"
V11 = "/1.1/media/upload.json"
APPEND = f"POST {V11} APPEND"
CUT = f"POST {V11}"  # requests cut short before their form was read: the APPENDs a kill interrupted
TOKEN = "chunkup-emulator-token"
OAUTH1 = {"login": "chunkup-consumer-key", "password": "chunkup-consumer-secret",
          "access_token": "chunkup-access-token", "access_token_secret": "chunkup-access-token-secret"}
MEDIA = {"media_type": "video/mp4", "media_category": "amplify_video"}
METHODS = ("curl", "tweepy", "chunkup x1", "chunkup x3")
TIME = "/usr/bin/time"  # GNU time: curl's own peak RSS (see Child.wait on why not wait4's)


def chunk_for(size: int) -> int:
    """4 MiB, or the smallest chunk that fits X's 1000 segments (what tweepy and chunkup pick themselves)."""
    return max(CHUNK, -(-size // MAX_SEGMENTS))


class XMethods:
    """How each method uploads a file to the emulator: the command, and what its run measured."""

    def __init__(self, emu: Emulator, work: Path) -> None:
        self.emu = emu
        self.work = work
        assert emu.ca is not None, "the X bench needs the emulator on TLS (tweepy speaks only https)"
        self.ca = emu.ca
        conn = {"conn_type": "chunkup_x", "host": emu.url, "login": OAUTH1["login"], "password": OAUTH1["password"],
                "extra": {"api_version": "v1.1", "access_token": OAUTH1["access_token"],
                          "access_token_secret": OAUTH1["access_token_secret"],
                          # X caps video at 512 MiB unless the account allows more: the bench's account does.
                          "size_limits": {"video": 1 << 40}}}
        self.chunkup_env = {"AIRFLOW_CONN_CHUNKUP_X_DEFAULT": json.dumps(conn), CA_ENV: str(self.ca)}

    def parts(self, path: Path, size: int) -> Path:
        """The file cut into its segments for curl (once per file; ``measure`` removes ``parts-*``)."""
        folder = self.work / f"parts-{path.stem}"
        if not folder.exists():
            split(path, chunk_for(size), folder)
        return folder

    def command(self, method: str, path: Path, size: int,
                state: Path | None = None) -> tuple[list[str], dict[str, str]]:
        """The process that uploads ``path`` by ``method``; ``state``: chunkup's checkpoint file."""
        chunk = chunk_for(size)
        if method == "curl":
            script = HERE / "peers" / "x_curl_upload.sh"
            return [TIME, "-f", "%M", "-o", str(self.work / "curl-rss"), "bash", str(script), self.emu.url + V11,
                    TOKEN, str(self.ca), str(size), str(self.parts(path, size))], {}
        if method == "tweepy":
            return [str(PEERS_PYTHON), str(HERE / "peers" / "tweepy_upload.py"), str(path),
                    "--upload-host", self.emu.url.split("://", 1)[1], "--chunk-size", str(chunk),
                    "--media-type", MEDIA["media_type"], "--media-category", MEDIA["media_category"]], \
                {"REQUESTS_CA_BUNDLE": str(self.ca)}
        in_flight = int(method.rsplit("x", 1)[1])
        env = dict(self.chunkup_env)
        if state is not None:
            env[CHECKPOINT_ENV] = str(state)
        return chunkup_command(HOOK, path, **MEDIA, chunk_size=chunk, max_in_flight=in_flight), env

    def outcome(self, method: str, done: Measured) -> dict[str, Any]:
        """``{"seconds", "cpu_seconds", "peak_rss_mib", "media_id", "sha256"?}`` of a finished run."""
        if done.returncode:
            raise RuntimeError(f"{method} failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-2000:]}")
        out = json.loads(done.stdout.strip().splitlines()[-1])
        if method == "curl":  # the script reports only the media id: time and CPU are the process's
            rss_kib = (self.work / "curl-rss").read_text().split()[-1]
            out.update(seconds=done.seconds, cpu_seconds=done.cpu_seconds, peak_rss_mib=int(rss_kib) / 1024)
        return out

    def runner(self, method: str) -> Callable[[Path, int, str], dict[str, Any]]:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            cmd, env = self.command(method, path, size)
            out = self.outcome(method, start_process(cmd, env).wait())
            if "sha256" in out:
                assert out["sha256"] == expected, f"{method} read the file wrong"
            return out
        return run

    def idle_rss_by_method(self) -> dict[str, float]:
        """Peak RSS of each method's process doing nothing much: chunkup's child importing the hook (and
        Airflow), tweepy's script importing tweepy, curl fetching the emulator's health over TLS."""
        chunkup = idle_rss(HOOK, self.chunkup_env)
        tweepy = json.loads(run_measured([str(PEERS_PYTHON), str(HERE / "peers" / "tweepy_upload.py"),
                                          "--idle"]).stdout)["peak_rss_mib"]
        run_measured([TIME, "-f", "%M", "-o", str(self.work / "curl-rss"), "curl", "-sS", "-o", "/dev/null",
                      "--cacert", str(self.ca), f"{self.emu.url}/_emulator/health"])
        curl = int((self.work / "curl-rss").read_text().split()[-1]) / 1024
        return {"curl": round(curl, 1), "tweepy": round(tweepy, 1), "chunkup x1": round(chunkup, 1),
                "chunkup x3": round(chunkup, 1)}

    def received(self, media_id: str) -> str | None:
        return self.emu.get(f"/_emulator/x/media/{media_id}")["sha256"]

    def media_ids(self) -> dict[str, str]:
        """Every media the emulator knows: id -> state."""
        return {m["id"]: m["state"] for m in self.emu.get("/_emulator/x/media")}


def post(emu: Emulator, path: str) -> None:
    import httpx

    httpx.post(f"{emu.url}{path}", verify=emu.verify, timeout=30).raise_for_status()


def rss_series(x: XMethods, sizes: list[int], timed: list[dict[str, Any]],
               idle: dict[str, float]) -> list[dict[str, Any]]:
    """Peak RSS per method and file size: from the timed runs where there are some, else one run each."""
    from airflow_provider_chunkup.sources import file_digest

    def row(method: str, size: int, peak: float) -> dict[str, Any]:
        return {"method": method, "size_mib": mib(size), "chunk_bytes": chunk_for(size),
                "peak_rss_mib": round(peak, 1), "over_idle_mib": round(peak - idle[method], 1)}

    rows = [row(r["method"], int(r["size_mib"] * MiB), r["peak_rss_mib"])
            for r in timed if int(r["size_mib"] * MiB) in sizes]
    for size in sorted(set(sizes) - {int(r["size_mib"] * MiB) for r in timed}):
        path = x.work / f"rss-{size}.mp4"
        make_file(path, size)
        expected = file_digest(path)
        for method in METHODS:
            out = x.runner(method)(path, size, expected)
            assert x.received(out["media_id"]) == expected, f"{method}: the emulator received other bytes"
            x.emu.clear_received()
            rows.append(row(method, size, out["peak_rss_mib"]))
            print(f"  rss {method:<12} {mib(size):>6g} MiB: {out['peak_rss_mib']:.0f} MiB", flush=True)
        path.unlink()
        shutil.rmtree(x.work / f"parts-{path.stem}", ignore_errors=True)
    return sorted(rows, key=lambda r: (METHODS.index(r["method"]), r["size_mib"]))


def resume_series(x: XMethods, size: int) -> list[dict[str, Any]]:
    """Each method killed half-way through ``size`` bytes and started again: what was sent twice."""
    from airflow_provider_chunkup.sources import file_digest

    path = x.work / f"resume-{size}.mp4"
    make_file(path, size)
    expected = file_digest(path)
    rows = []
    for method in METHODS:
        state = x.work / f"state-{method.replace(' ', '-')}.json"  # the task state store of one task instance
        before = x.media_ids()
        post(x.emu, "/_emulator/stats/reset")
        cmd, env = x.command(method, path, size, state)
        killed_after = kill_when(start_process(cmd, env), lambda: route_bytes(x.emu, APPEND, CUT), size // 2)
        out = x.outcome(method, start_process(cmd, env).wait())  # the retry: the same command again
        total = route_bytes(x.emu, APPEND, CUT)
        new = {k: v for k, v in x.media_ids().items() if k not in before}
        completed = [k for k, v in new.items() if v == "finalized"]
        assert completed == [out["media_id"]] and x.received(out["media_id"]) == expected, f"{method}: {new}"
        rows.append({"method": method, "size_mib": mib(size), "killed_after_mib": round(mib(killed_after), 1),
                     "bytes_sent_total_mib": round(mib(total), 1), "bytes_sent_again_mib": round(mib(total - size), 1),
                     "media_completed": len(completed), "media_opened": len(new),
                     "retry_seconds": round(out["seconds"], 2)})
        print(f"  resume {method:<12} killed at {mib(killed_after):7.1f} MiB; {mib(total):7.1f} MiB sent in all, "
              f"{mib(total - size):7.1f} again; {len(new)} opened, {len(completed)} completed", flush=True)
        x.emu.clear_received()
        state.unlink(missing_ok=True)
    path.unlink()
    shutil.rmtree(x.work / f"parts-{path.stem}", ignore_errors=True)
    return rows


def versions() -> dict[str, str]:
    peers = subprocess.run([str(PEERS_PYTHON), "-c", "import platform, tweepy, requests; "
                            "print(tweepy.__version__, requests.__version__, platform.python_version())"],
                           capture_output=True, text=True, check=True).stdout.split()
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True, check=True).stdout.split()
    return {"chunkup": importlib.metadata.version("airflow-provider-chunkup"), "tweepy": peers[0],
            "requests": peers[1], "curl": curl[1], "python": platform.python_version(), "peers_python": peers[2],
            "airflow": importlib.metadata.version("apache-airflow"), "httpx": importlib.metadata.version("httpx"),
            "openssl": __import__("ssl").OPENSSL_VERSION}


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "cpu_model": model, "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mib", type=int, nargs="+", default=[256, 1024], help="timed sizes")
    parser.add_argument("--rss-sizes-mib", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--resume-mib", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="64/128 MiB, RSS up to 256 MiB, resume at 128 MiB")
    parser.add_argument("--output", type=Path, help="default: bench/results/x_upload.json (--quick: a temp file)")
    add_pin_argument(parser)
    args = parser.parse_args()
    if args.quick:
        args.sizes_mib, args.rss_sizes_mib, args.resume_mib = [64, 128], [64, 128, 256], 128
    if args.output is None:  # a quick check never overwrites the real results
        quick = Path(tempfile.gettempdir()) / "x_upload_quick.json"
        args.output = quick if args.quick else pinned_output(HERE / "results" / "x_upload.json", args.pin)
    require_curl()
    if not PEERS_PYTHON.exists() or not Path(TIME).exists():
        raise SystemExit(f"needs {PEERS_PYTHON} (pip install -r bench/peers/requirements.txt) and GNU time at {TIME}")
    # X's 1875 upload calls per 15 minutes would throttle the repeated runs, not measure them.
    with emulator({"x": {"rate_limit": 10**9}}, "--no-size-limits", "--x-processing-seconds", "0", tls=True,
                  pin=args.pin) as emu:
        work = Path(tempfile.mkdtemp(prefix="chunkup-bench-x-"))
        try:
            x = XMethods(emu, work)
            idle = x.idle_rss_by_method()
            print(f"emulator {emu.url}; idle RSS: chunkup (with Airflow) {idle['chunkup x1']:.0f} MiB, "
                  f"tweepy {idle['tweepy']:.0f} MiB, curl {idle['curl']:.0f} MiB")
            rows = measure({m: x.runner(m) for m in METHODS}, [s * MiB for s in args.sizes_mib], args.repeats, emu,
                           x.received, "curl", work)
            rss: list[dict[str, Any]] = []
            resume: list[dict[str, Any]] = []
            if args.pin:  # the pinned run is about time and CPU: no peak RSS or resume rows
                args.rss_sizes_mib = []
            else:
                print("peak RSS by file size", flush=True)
                rss = rss_series(x, [s * MiB for s in args.rss_sizes_mib], rows, idle)
                print(f"resume after a kill half-way through {args.resume_mib} MiB", flush=True)
                resume = resume_series(x, args.resume_mib * MiB)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    settings = {
        "machine": machine(), "versions": versions(), "api": "X v1.1 over HTTPS (self-signed, loopback)",
        "chunk_bytes": CHUNK, "repeats": args.repeats, "pinned": args.pin,
        "idle_rss_mib_by_method": idle,
        "notes": [
            "curl: OAuth 2.0 bearer (curl cannot sign OAuth 1.0a); tweepy and chunkup: OAuth 1.0a.",
            "curl's segments are cut with split before its run, untimed; its time is the whole script's "
            "(bash and three curl processes), its peak RSS GNU time's %M (the largest of them).",
            "Peak RSS of the Python children is VmHWM: a spawned child's ru_maxrss starts at its parent's RSS.",
            f"rss_by_size: {CHUNK} byte chunks up to {CHUNK * MAX_SEGMENTS} bytes; beyond, X's 1000-segment limit "
            "needs size/1000 (4294968 bytes at 4 GiB), given to every method (what tweepy, and chunkup without a "
            "chunk_size, pick themselves); the emulator's size limits are off (--no-size-limits), its segment "
            "limits are X's.",
            "No STATUS polling after FINALIZE for anyone (tweepy: wait_for_async_finalize=False).",
            "resume: bytes as the emulator read them (APPENDs, and the APPENDs the kill cut short); what was still "
            "in socket buffers when the client died is not counted (at most the segments in flight).",
            "Client CPU competes with the emulator (TLS, multipart parsing, disk) for the 2 cores: on loopback it "
            "turns into wall time, which a remote server would not.",
        ],
        "rss_by_size": rss, "resume": resume,
    }
    report("x_upload", rows, "curl", idle["chunkup x1"], args.output, settings, idle)
    print(f"\n{'peak RSS':<12} {'idle':>6} " + " ".join(f"{mib(s * MiB):>8g} MiB" for s in args.rss_sizes_mib))
    for method in METHODS:
        by_size = {r["size_mib"]: r["peak_rss_mib"] for r in rss if r["method"] == method}
        print(f"{method:<12} {idle[method]:>6.0f} "
              + " ".join(f"{by_size.get(mib(s * MiB), 0):>12.0f}" for s in args.rss_sizes_mib))
    print(f"\n{'method':<12} {'killed at':>10} {'sent in all':>12} {'sent again':>11} {'opened':>7} {'completed':>10}")
    for r in resume:
        print(f"{r['method']:<12} {r['killed_after_mib']:>10.1f} {r['bytes_sent_total_mib']:>12.1f} "
              f"{r['bytes_sent_again_mib']:>11.1f} {r['media_opened']:>7} {r['media_completed']:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
