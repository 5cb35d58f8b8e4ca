"""Facebook video upload benchmark: chunkup against facebook-business 26.0.3 (Meta's SDK) and curl on the Graph
API's start / transfer / finish upload, the server dictating every window, in one run.

    .venv/bin/python bench/meta_upload.py [--quick] [--size-mib 256] [--windows-mib 50 8] [--repeats 5]
                                          [--resume-mib 256]

The emulator runs in its own process on loopback (its Meta front door, ``meta-token`` accepted, windows of a
fixed ``meta.window_bytes``: ``window_variation`` 0, the Graph rate limit lifted, processing at once). Every
method uploads the same file to the ad account ``act_4242`` (``POST /v23.0/act_4242/advideos``; the SDK knows no
other path): a start, one multipart transfer per window Graph answers, in order, then a finish. Each upload is
checked byte-exact by the emulator's inspection sha256 (``/_emulator/meta/videos/{id}``), and each method runs
in a fresh process reporting its wall time, CPU and peak RSS. Repetitions are interleaved; ratios are to
curl's median in the same run.

- ``curl``: the start (a form ``POST``) with curl, its ``upload_session_id`` read from the answer, then one
  ``curl -K`` sending every transfer (``-F video_file_chunk=@part``, streamed from a part file) and the finish
  over one kept-alive connection. The windows are precomputed (fixed-size with ``window_variation`` 0, which
  the emulator checks: a wrong one fails the run) and the parts cut with ``split`` beforehand, not timed: the
  baseline.
- ``facebook-business``: ``bench/peers/facebook_business_upload.py`` in the peers' venv:
  ``FacebookAdsApi.init(access_token, crash_log=False)``, ``AdVideo(parent_id="act_4242")`` with ``filepath``,
  ``remote_create()``; its hard-coded Graph hosts rewritten to the emulator by an ``HTTPAdapter``. It reads
  each window whole into memory and sends it with requests' in-memory multipart body.
- ``chunkup``: ``FacebookVideoHook.upload`` (a ``chunkup_facebook`` connection, ``target: act_4242``) with a
  ``chunk_size`` (its window buffer) of the window: the file's sha256 computed as it goes.
- ``chunkup nosum``: the same with ``checksum=False``: the work the peers do.

Measured: time and peak RSS at each ``--windows-mib`` (50 MiB, Graph's documented first window, and 8 MiB);
and resume, at each window size: each method's process SIGKILLed once the emulator has received half of a
``--resume-mib`` file, then started again as its user would (chunkup: the same call with a ``Checkpoint`` in a
JSON file, Airflow's task state store stand-in, continuing the session from the window Graph last named;
facebook-business and curl keep no session and start a new upload), counting the transfer bytes the emulator
read (``/_emulator/stats``). The emulator counts a request's bytes when it ends, so the kill comes just after
the window that reaches half is answered, while the next one is (perhaps) on its way.

Everything goes to ``bench/results/meta_upload.json`` with the machine, versions and date.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from common import (
    CHECKPOINT_ENV,
    HERE,
    PEERS_PYTHON,
    Emulator,
    Measured,
    chunkup_command,
    emulator,
    idle_rss,
    make_file,
    measure,
    mib,
    require_curl,
    run_chunkup,
    split,
)
from peers.apivideo_harness import (
    PEERS,
    curl_config,
    kill_at,
    machine,
    measured,
    require_peers,
    resume_row,
    run_json,
    versions,
    wrapped,
)

MiB = 1024 * 1024
HOOK = "airflow_provider_chunkup.hooks.facebook:FacebookVideoHook"
PEER = PEERS / "facebook_business_upload.py"
PEER_NAME = "facebook-business"
TOKEN = "meta-token"
ACCOUNT = "4242"
MEDIA_TYPE = "video/mp4"
VERSION = "v23.0"
ADVIDEOS = f"/{VERSION}/act_{ACCOUNT}/advideos"
TRANSFER_ROUTE = "POST /{ver}/{node}/advideos transfer"
"""The stats key of the transfer phase's POSTs (a transfer a kill cut short included): the bytes a resume counts."""

Method = Callable[[Path, int, str], dict[str, Any]]


def config(window: int) -> dict[str, Any]:
    """The emulator's Meta settings for windows of ``window`` bytes: all alike, so curl can precompute them; the
    Graph rate limit (200 calls an hour) lifted, or the repeated runs would measure it; processing at once."""
    return {"meta": {"window_bytes": window, "window_variation": 0.0, "processing_secs": 0,
                     "rate_limit": 10**9}}


class Bench:
    """The methods, bound to one emulator and scratch directory."""

    def __init__(self, emu: Emulator, work: Path) -> None:
        self.emu = emu
        self.work = work
        self.split_seconds: dict[str, float] = {}
        self.env = {"AIRFLOW_CONN_CHUNKUP_FACEBOOK_DEFAULT": json.dumps({
            "conn_type": "chunkup_facebook", "host": emu.url, "password": TOKEN,
            "extra": {"target": f"act_{ACCOUNT}", "graph_version": VERSION, "allow_insecure_http": True}})}

    def windows(self, window: int) -> None:
        """Windows of ``window`` bytes from the next start on."""
        httpx.patch(f"{self.emu.url}/_emulator/config", json=config(window)).raise_for_status()

    # -- curl -----------------------------------------------------------------------------------------

    def parts(self, path: Path, window: int) -> list[Path]:
        """The file cut into part files for curl, once per file and window (timed apart, not in the runs)."""
        folder = self.work / f"parts-{path.stem}-{window}"
        if not folder.exists():
            started = time.perf_counter()
            split(path, window, folder)
            self.split_seconds[f"{mib(path.stat().st_size):g} MiB in {mib(window):g} MiB"] = round(
                time.perf_counter() - started, 3)
        return sorted(folder.glob("part-*"))

    def curl_start(self, size: int) -> tuple[dict[str, str], Measured]:
        """The start phase with curl: (Graph's answer, the measurement)."""
        done = measured("curl", "-sS", "--fail-with-body", "-d", f"access_token={TOKEN}", "-d", "upload_phase=start",
                        "-d", f"file_size={size}", f"{self.emu.url}{ADVIDEOS}")
        return json.loads(done.stdout), done

    def transfer_argv(self, path: Path, size: int, window: int, session: str, answer: Path) -> list[str]:
        """One curl sending every window as a transfer (the windows precomputed: fixed-size), then the finish,
        over one connection, in order; the finish's answer goes to ``answer``."""
        url, transfers, offset = f"{self.emu.url}{ADVIDEOS}", [], 0
        for part in self.parts(path, window):
            transfers.append([
                ("output", "/dev/null"), ("form-string", f"access_token={TOKEN}"),
                ("form-string", "upload_phase=transfer"), ("form-string", f"upload_session_id={session}"),
                ("form-string", f"start_offset={offset}"),
                ("form", f"video_file_chunk=@{part};type=application/octet-stream"), ("header", "Expect:"),
                ("url", url)])
            offset += part.stat().st_size
        assert offset == size
        transfers.append([("output", str(answer)), ("data", f"access_token={TOKEN}&upload_phase=finish&"
                                                           f"upload_session_id={session}&title=bench"), ("url", url)])
        conf = self.work / f"curl-{answer.stem}.conf"
        conf.write_text(curl_config(transfers))
        return ["curl", "-K", str(conf)]

    def curl(self, window: int) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            self.parts(path, window)  # cut outside the timing
            started, start = self.curl_start(size)
            answer = self.work / "curl-finish.json"
            upload = measured(*self.transfer_argv(path, size, window, started["upload_session_id"], answer))
            assert json.loads(answer.read_text()) == {"success": True}, answer.read_text()
            return {"seconds": start.seconds + upload.seconds, "cpu_seconds": start.cpu_seconds + upload.cpu_seconds,
                    "peak_rss_mib": max(start.peak_rss_mib, upload.peak_rss_mib), "media_id": started["video_id"]}
        return run

    # -- the clients ----------------------------------------------------------------------------------

    def peer_argv(self, path: Path | str) -> list[str]:
        return [str(PEERS_PYTHON), str(PEER), str(path), "--emulator", self.emu.url, "--token", TOKEN,
                "--account", ACCOUNT]

    def peer(self) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            return run_json(self.peer_argv(path))
        return run

    @staticmethod
    def chunkup_kwargs(window: int, checksum: bool = True) -> dict[str, Any]:
        return {"chunk_size": window, "media_type": MEDIA_TYPE, "checksum": checksum, "options": {"title": "bench"}}

    def chunkup(self, window: int, checksum: bool = True) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            out = run_chunkup(HOOK, self.env, path, **self.chunkup_kwargs(window, checksum))
            assert out["sha256"] == (expected if checksum else None), "chunkup read the file wrong"
            return out
        return run

    def methods(self, window: int) -> dict[str, Method]:
        return {"curl": self.curl(window), PEER_NAME: self.peer(), "chunkup": self.chunkup(window),
                "chunkup nosum": self.chunkup(window, checksum=False)}

    # -- what the emulator holds ----------------------------------------------------------------------

    def received(self, video_id: str) -> str | None:
        video = self.emu.get(f"/_emulator/meta/videos/{video_id}")
        return video["sha256"] if video["finished"] and video["bytes"] == video["file_size"] else None

    def uploads(self, expected: str) -> tuple[int, int]:
        """(sessions started, videos finished with the file's bytes) since the emulator's last reset."""
        videos = self.emu.get("/_emulator/meta/videos")["videos"]
        return len(videos), sum(1 for v in videos if v["finished"] and v["sha256"] == expected)

    def fresh(self, window: int) -> None:
        """Forget every upload (a reset restores the startup config: the settings patched again)."""
        httpx.post(f"{self.emu.url}/_emulator/reset").raise_for_status()
        self.windows(window)
        self.emu.clear_received()


# -- the measures -------------------------------------------------------------------------------------------


def timed(bench: Bench, windows: list[int], size: int, repeats: int) -> list[dict[str, Any]]:
    """Every method at every window size, interleaved repeats; rows as ``common.measure`` makes them."""
    rows = []
    for window in windows:
        bench.windows(window)
        for row in measure(bench.methods(window), [size], repeats, bench.emu, bench.received, "curl", bench.work):
            rows.append({"window_mib": mib(window), **row})
            print(f"  {mib(window):g} MiB windows {row['method']:<18} {row['median_seconds']:>7.2f} s "
                  f"({row['time_vs_curl']:.2f}x curl), peak RSS {row['peak_rss_mib']} MiB", flush=True)
    return rows


def resume(bench: Bench, size: int, window: int) -> list[dict[str, Any]]:
    """Each method killed once the emulator received half the file, then run again to the end."""
    from airflow_provider_chunkup.sources import file_digest

    path = bench.work / f"resume-{size}.mp4"
    make_file(path, size)
    expected = file_digest(path)
    emu, routes, half = bench.emu, [TRANSFER_ROUTE], size // 2

    def curl() -> tuple[Callable[[], None], Callable[[], None]]:
        answer = bench.work / "curl-resume.json"

        def kill() -> None:
            started, _ = bench.curl_start(size)
            argv = bench.transfer_argv(path, size, window, started["upload_session_id"], answer)
            kill_at(wrapped(*argv), {}, emu, routes, half)

        def rerun() -> None:  # curl keeps no state: a new session from byte 0
            started, _ = bench.curl_start(size)
            measured(*bench.transfer_argv(path, size, window, started["upload_session_id"], answer))
        return kill, rerun

    def peer() -> tuple[Callable[[], None], Callable[[], None]]:
        argv = bench.peer_argv(path)

        def rerun() -> None:  # the SDK keeps no state either; its bytes are checked by the count of finished videos
            run_json(argv)
        return lambda: kill_at(argv, {}, emu, routes, half), rerun

    def chunkup() -> tuple[Callable[[], None], Callable[[], None]]:
        state = bench.work / "task-state.json"
        state.unlink(missing_ok=True)
        argv = chunkup_command(HOOK, path, **bench.chunkup_kwargs(window))
        env = {**bench.env, CHECKPOINT_ENV: str(state)}

        def rerun() -> None:
            assert run_json(argv, env)["sha256"] == expected, "chunkup read the file wrong"
        return lambda: kill_at(argv, env, emu, routes, half), rerun

    rows = []
    for method, (kill, rerun) in (("curl", curl()), (PEER_NAME, peer()), ("chunkup", chunkup())):
        bench.fresh(window)
        row = resume_row(method, size, kill, rerun, emu, routes, lambda: bench.uploads(expected))
        assert row["media_completed"] == 1, f"{method}: {row}"
        rows.append({"window_mib": mib(window), **row})
    path.unlink()
    for leftover in bench.work.glob("parts-*"):
        shutil.rmtree(leftover)
    return rows


def idle(bench: Bench) -> dict[str, float]:
    """Peak RSS of each method's program doing nothing much (imports only; curl --version)."""
    return {"curl": round(measured("curl", "--version").peak_rss_mib, 1),
            PEER_NAME: round(float(run_json([str(PEERS_PYTHON), str(PEER), "--idle"])["peak_rss_mib"]), 1),
            "chunkup": round(idle_rss(HOOK, bench.env), 1)}


def peer_versions() -> dict[str, str]:
    names = ("facebook-business", "requests")
    code = f"import importlib.metadata as m; print(' '.join(m.version(p) for p in {names!r}))"
    found = subprocess.run([str(PEERS_PYTHON), "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return dict(zip(names, found, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="64 MiB (resume: 64), one repeat: to check the script")
    parser.add_argument("--size-mib", type=int)
    parser.add_argument("--windows-mib", type=int, nargs="+", default=[50, 8],
                        help="the emulator's window sizes in MiB")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--resume-mib", type=int)
    parser.add_argument("--output", type=Path, help="default: bench/results/meta_upload.json (--quick: a temp file)")
    args = parser.parse_args()
    size = (args.size_mib or (64 if args.quick else 256)) * MiB
    resume_size = (args.resume_mib or (64 if args.quick else 256)) * MiB
    repeats = args.repeats or (1 if args.quick else 5)  # 5: the loopback runs are short, so noisier
    windows = [w * MiB for w in args.windows_mib]
    output = args.output or (Path(tempfile.gettempdir()) / "meta_upload_quick.json" if args.quick
                             else HERE / "results" / "meta_upload.json")
    require_curl()
    require_peers()
    load_before = [round(x, 2) for x in os.getloadavg()]
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-meta-"))
    try:
        with emulator(config(windows[0])) as emu:
            bench = Bench(emu, work)
            idle_rss_mib = idle(bench)
            print(f"Graph video on {emu.url}: idle RSS {idle_rss_mib}", flush=True)
            rows = timed(bench, windows, size, repeats)
            print(f"resume after a kill half-way through {mib(resume_size):g} MiB", flush=True)
            resumed = [row for window in windows for row in resume(bench, resume_size, window)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write(output, rows, resumed, idle_rss_mib, {
        "size_mib": mib(size), "windows_mib": [mib(w) for w in windows], "repeats": repeats,
        "resume_size_mib": mib(resume_size),
        "load_average_before_after": [load_before, [round(x, 2) for x in os.getloadavg()]],
        "curl_split_seconds": bench.split_seconds,
        "notes": [
            "One upload session per upload, to an ad account (/act_4242/advideos): a start, the transfers of the "
            "windows the emulator dictates, one at a time and in order (Graph's protocol is sequential), a finish. "
            "The emulator's windows are all window_mib (window_variation 0) and it refuses a transfer that is not "
            "exactly the window it named (1363037), so every method followed the server.",
            "curl: the parts are cut with split before the runs (not timed); its time is the start's curl plus "
            "the transfers' and finish's curl; peak RSS the larger of the two (through a wrapper whose only child "
            "it is).",
            "facebook-business: timed from remote_create() (the start) to its answer, FacebookAdsApi.init before; "
            "chunkup: hook.upload(), the connection fetched before, chunk_size (its window buffer) = the window.",
            "chunkup: the file's sha256 computed as it goes (its UploadResult); chunkup nosum: checksum=False, "
            "the work the peers do. Graph takes no per-transfer checksum.",
            "Peak RSS of the Python children is VmHWM (ru_maxrss starts at the spawning parent's RSS); chunkup's "
            "includes Airflow's SDK, which a worker has loaded anyway. peak_rss_over_idle_mib: above the same "
            "program importing its modules and uploading nothing (curl: curl --version).",
            "resume: transfer-phase body bytes as the emulator read them (multipart framing included), including "
            "the part of a transfer the kill cut (counted under 'POST /{ver}/{node}/advideos', the phase being "
            "unknown until the form is read), which the emulator (as Graph) does not keep: that window is sent "
            "again whole; bytes_sent_again_mib = all transfer bytes minus the file's size. The emulator counts a "
            "request when it ends, so the kill lands just after the window that reaches half the file is "
            "answered (killed_after_mib, a window boundary), while the next window may be on its way: chunkup "
            "loses at most that one window. Sessions started / videos finished byte-exact. chunkup resumes the "
            "session from its checkpoint; facebook-business has no resume and starts a new upload, as curl does.",
            "The emulator, the client and curl share the machine's cores: on loopback client CPU is wall time.",
        ],
    })
    return 0


def write(output: Path, rows: list[dict[str, Any]], resumed: list[dict[str, Any]], idle_rss_mib: dict[str, float],
          settings: dict[str, Any]) -> None:
    """Print the tables and write the JSON."""
    print(f"\n{'window':>8} {'method':<18} {'median s':>9} {'MiB/s':>7} {'x curl':>7} {'CPU s':>6} "
          f"{'peak RSS':>9} {'over idle':>10}")
    for r in rows:
        base = idle_rss_mib["chunkup" if r["method"].startswith("chunkup") else r["method"]]
        r["peak_rss_over_idle_mib"] = round(r["peak_rss_mib"] - base, 1) if r["peak_rss_mib"] else None
        print(f"{r['window_mib']:>4g} MiB {r['method']:<18} {r['median_seconds']:>9.2f} {r['mib_per_second']:>7.1f} "
              f"{r['time_vs_curl']:>7.2f} {r['client_cpu_seconds']:>6.2f} {r['peak_rss_mib']:>5.0f} MiB "
              f"{r['peak_rss_over_idle_mib']:>6.0f} MiB")
    print(f"\n{'window':>8} {'method':<18} {'killed after':>13} {'sent again':>11} {'sessions':>9} {'completed':>9}")
    for r in resumed:
        print(f"{r['window_mib']:>4g} MiB {r['method']:<18} {r['killed_after_mib']:>9.1f} MiB "
              f"{r['bytes_sent_again_mib']:>7.2f} MiB "
              f"{r['remote_uploads_created']:>9} {r['media_completed']:>9}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "meta_upload", "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
        "versions": {**versions(api_video=False), **peer_versions()}, **settings,
        "idle_rss_mib": idle_rss_mib, "results": rows, "resume": resumed,
    }, indent=2) + "\n")
    print(f"\nwritten to {output}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
