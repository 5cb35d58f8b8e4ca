"""YouTube upload benchmark: chunkup against google-api-python-client 2.202.0 and curl on Google's resumable
upload protocol (``videos.insert``), in one run.

    .venv/bin/python bench/youtube_upload.py [--quick] [--size-mib 256] [--chunks-mib 16 64] [--repeats 5]
                                             [--latency-ms 100] [--rss-mib 1024] [--resume-mib 256]

The emulator runs in its own process on loopback (its YouTube front door, ``youtube-token`` accepted as
an access token, the daily insert quota lifted). Every method sends the same file in the same chunks (a
session initiated with one POST, then one PUT per chunk with ``Content-Range``, in order), each upload is
checked byte-exact by the emulator's inspection sha256 (``/_emulator/youtube/videos/{id}``), and each
method runs in a fresh process reporting its wall time, CPU and peak RSS. Repetitions are interleaved;
ratios are to curl's median in the same run.

- ``curl``: the initiation ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status``
  (the video's JSON, ``X-Upload-Content-Type``/``-Length``), the session URI from its ``Location``, then
  one ``curl -K`` sending every chunk as a ``PUT`` with ``Content-Range: bytes a-b/total`` over one
  kept-alive connection (``-T`` streams each part file; the parts are cut with ``split`` beforehand, not
  timed): the baseline.
- ``google-api-python-client``: ``bench/peers/google_api_upload.py`` in the peers' venv: the client
  built from its static discovery document pointed at the emulator, ``videos().insert(...,
  media_body=MediaFileUpload(path, chunksize, resumable=True))`` and the ``next_chunk()`` loop.
- ``chunkup``: ``YouTubeHook.upload`` (an ``access_token`` connection) with its defaults: the file's
  sha256 computed as it goes.
- ``chunkup nosum``: the same with ``checksum=False``: the work the peers do.

Measured: time and peak RSS at each ``--chunks-mib`` (16 MiB, chunkup's default, and 64 MiB); time again
with every request to YouTube's upload path held ``--latency-ms`` (100 ms: a server across a network;
the emulator's ``delay`` fault) at the first chunk size; peak RSS at a second file size (``--rss-mib``,
one run each) at the first chunk size; and resume: each method's process SIGKILLed once the emulator has
received half of a ``--resume-mib`` file at the first chunk size, then started again as its user would
(chunkup: the same call with a ``Checkpoint`` in a JSON file, Airflow's task state store stand-in; curl
and google-api-python-client keep no session and start a new upload; ``google-api-python-client
(URI kept)``: the same script told to store ``request.resumable_uri`` in a file and continue it, which
the library leaves to its user).

Everything goes to ``bench/results/youtube_upload.json`` with the machine, versions and date.
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
HOOK = "airflow_provider_chunkup.hooks.youtube:YouTubeHook"
PEER = PEERS / "google_api_upload.py"
PEER_NAME = "google-api-python-client"
TOKEN = "youtube-token"
MEDIA_TYPE = "video/mp4"
INSERT = "/upload/youtube/v3/videos"
SESSION_ROUTE = f"PUT {INSERT}"
"""The stats key of the session URI's chunk PUTs: the bytes a resume counts."""
VIDEO = {"snippet": {"title": "bench", "categoryId": "22"}, "status": {"privacyStatus": "private"}}
# The default day's quota is 100 inserts: the repeated runs would measure the quota, not the upload.
CONFIG = {"youtube": {"insert_quota": 10**9}}

Method = Callable[[Path, int, str], dict[str, Any]]


class Bench:
    """The methods, bound to one emulator and scratch directory."""

    def __init__(self, emu: Emulator, work: Path) -> None:
        self.emu = emu
        self.work = work
        self.split_seconds: dict[str, float] = {}
        self.env = {"AIRFLOW_CONN_CHUNKUP_YOUTUBE_DEFAULT": json.dumps({
            "conn_type": "chunkup_youtube", "host": emu.url,
            "extra": {"access_token": TOKEN, "allow_insecure_http": True}})}

    # -- curl -----------------------------------------------------------------------------------------

    def parts(self, path: Path, chunk: int) -> list[Path]:
        """The file cut into part files for curl, once per file and chunk (timed apart, not in the runs)."""
        folder = self.work / f"parts-{path.stem}-{chunk}"
        if not folder.exists():
            started = time.perf_counter()
            split(path, chunk, folder)
            self.split_seconds[f"{mib(path.stat().st_size):g} MiB in {mib(chunk):g} MiB"] = round(
                time.perf_counter() - started, 3)
        return sorted(folder.glob("part-*"))

    def curl_initiate(self, size: int) -> tuple[str, Measured]:
        """The resumable session opened with curl: (its session URI, the measurement)."""
        done = measured("curl", "-sS", "--fail-with-body", "-o", "/dev/null", "-D", "-",
                        "-H", f"Authorization: Bearer {TOKEN}", "-H", "Content-Type: application/json; charset=UTF-8",
                        "-H", f"X-Upload-Content-Type: {MEDIA_TYPE}", "-H", f"X-Upload-Content-Length: {size}",
                        "-d", json.dumps(VIDEO), f"{self.emu.url}{INSERT}?uploadType=resumable&part=snippet,status")
        location = next(line.split(":", 1)[1].strip() for line in done.stdout.splitlines()
                        if line.lower().startswith("location:"))
        return location, done

    def put_argv(self, path: Path, size: int, chunk: int, session_uri: str, answer: Path) -> list[str]:
        """One curl sending every part as a PUT with its Content-Range, over one connection, in order; the
        last answer (the video) goes to ``answer``."""
        parts, transfers, offset = self.parts(path, chunk), [], 0
        for index, part in enumerate(parts):
            length = part.stat().st_size
            transfers.append([
                ("output", str(answer) if index == len(parts) - 1 else "/dev/null"), ("upload-file", str(part)),
                ("header", f"Content-Range: bytes {offset}-{offset + length - 1}/{size}"), ("header", "Expect:"),
                ("url", session_uri)])
            offset += length
        config = self.work / f"curl-{answer.stem}.conf"
        config.write_text(curl_config(transfers))
        return ["curl", "-K", str(config)]

    def curl(self, chunk: int) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            self.parts(path, chunk)  # cut outside the timing
            session_uri, initiate = self.curl_initiate(size)
            answer = self.work / "curl-video.json"
            upload = measured(*self.put_argv(path, size, chunk, session_uri, answer))
            return {"seconds": initiate.seconds + upload.seconds,
                    "cpu_seconds": initiate.cpu_seconds + upload.cpu_seconds,
                    "peak_rss_mib": max(initiate.peak_rss_mib, upload.peak_rss_mib),
                    "media_id": json.loads(answer.read_text())["id"]}
        return run

    # -- the clients ----------------------------------------------------------------------------------

    def peer_argv(self, path: Path | str, chunk: int, state: Path | None = None) -> list[str]:
        argv = [str(PEERS_PYTHON), str(PEER), str(path), "--root", self.emu.url, "--token", TOKEN,
                "--chunk-size", str(chunk), "--media-type", MEDIA_TYPE]
        return argv + (["--state", str(state)] if state else [])

    def peer(self, chunk: int) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            return run_json(self.peer_argv(path, chunk))
        return run

    @staticmethod
    def chunkup_kwargs(chunk: int, checksum: bool = True) -> dict[str, Any]:
        return {"chunk_size": chunk, "media_type": MEDIA_TYPE, "checksum": checksum, "options": {"title": "bench"}}

    def chunkup(self, chunk: int, checksum: bool = True) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            out = run_chunkup(HOOK, self.env, path, **self.chunkup_kwargs(chunk, checksum))
            assert out["sha256"] == (expected if checksum else None), "chunkup read the file wrong"
            return out
        return run

    def methods(self, chunk: int, nosum: bool = True) -> dict[str, Method]:
        out = {"curl": self.curl(chunk), PEER_NAME: self.peer(chunk), "chunkup": self.chunkup(chunk)}
        return {**out, "chunkup nosum": self.chunkup(chunk, checksum=False)} if nosum else out

    # -- what the emulator holds ----------------------------------------------------------------------

    def received(self, video_id: str) -> str | None:
        return self.emu.get(f"/_emulator/youtube/videos/{video_id}")["sha256"]

    def uploads(self, expected: str) -> tuple[int, int]:
        """(sessions initiated, videos completed with the file's bytes) since the emulator's last reset."""
        sessions = self.emu.get("/_emulator/youtube/sessions")
        videos = self.emu.get("/_emulator/youtube/videos")
        return len(sessions), sum(1 for v in videos if v["sha256"] == expected)

    def fresh(self) -> None:
        """Forget every upload (a reset restores the startup config: the quota lifted again)."""
        httpx.post(f"{self.emu.url}/_emulator/reset").raise_for_status()
        httpx.patch(f"{self.emu.url}/_emulator/config", json=CONFIG).raise_for_status()
        self.emu.clear_received()


# -- the measures -------------------------------------------------------------------------------------------


def timed(bench: Bench, chunks: list[int], size: int, repeats: int) -> list[dict[str, Any]]:
    """Every method at every chunk size, interleaved repeats; rows as ``common.measure`` makes them."""
    rows = []
    for chunk in chunks:
        for row in measure(bench.methods(chunk), [size], repeats, bench.emu, bench.received, "curl", bench.work):
            rows.append({"chunk_mib": mib(chunk), "latency_ms": 0, **row})
            print(f"  {mib(chunk):g} MiB chunks {row['method']:<26} {row['median_seconds']:>7.2f} s "
                  f"({row['time_vs_curl']:.2f}x curl), peak RSS {row['peak_rss_mib']} MiB", flush=True)
    return rows


def with_latency(bench: Bench, chunk: int, size: int, repeats: int, latency_ms: int) -> list[dict[str, Any]]:
    """Every request to YouTube's upload path (initiation and chunks) held ``latency_ms`` before its answer (the
    emulator's ``delay`` fault), as a server across a network would."""
    emu = bench.emu
    httpx.post(f"{emu.url}/_emulator/faults", json={"match": f"^[A-Z]+ {INSERT}", "action": "delay",
                                                    "delay_secs": latency_ms / 1000, "times": 0}).raise_for_status()
    try:
        rows = []
        for row in measure(bench.methods(chunk, nosum=False), [size], repeats, emu, bench.received, "curl",
                           bench.work):
            rows.append({"chunk_mib": mib(chunk), "latency_ms": latency_ms, **row})
            print(f"  {latency_ms} ms per request {row['method']:<26} {row['median_seconds']:>7.2f} s "
                  f"({row['time_vs_curl']:.2f}x curl)", flush=True)
        return rows
    finally:
        httpx.delete(f"{emu.url}/_emulator/faults").raise_for_status()


def rss_by_size(bench: Bench, rows: list[dict[str, Any]], chunk: int, sizes: list[int],
                idle: dict[str, float]) -> list[dict[str, Any]]:
    """Peak RSS per method and file size at ``chunk``: from the timed loopback runs where they exist, else one
    run each."""
    have = {(r["size_mib"], r["method"]): r for r in rows if not r["latency_ms"] and r["chunk_mib"] == mib(chunk)}
    methods = bench.methods(chunk)
    missing = [s for s in sizes if not all((mib(s), m) in have for m in methods)]
    for row in measure(methods, missing, 1, bench.emu, bench.received, "curl", bench.work):
        have[(row["size_mib"], row["method"])] = row
        print(f"  rss {row['size_mib']:g} MiB {row['method']:<26} {row['peak_rss_mib']} MiB", flush=True)
    out = []
    for method in methods:
        for size in sizes:
            r = have[(mib(size), method)]
            base = idle[method.split(" ")[0] if method.startswith("chunkup") else method]
            out.append({"method": method, "size_mib": mib(size), "chunk_mib": mib(chunk),
                        "peak_rss_mib": r["peak_rss_mib"], "above_idle_mib": round(max(r["peak_rss_mib"] - base, 0), 1),
                        "seconds": r["median_seconds"]})
    return out


def resume(bench: Bench, size: int, chunk: int) -> list[dict[str, Any]]:
    """Each method killed once the emulator received half the file, then run again to the end."""
    from airflow_provider_chunkup.sources import file_digest

    path = bench.work / f"resume-{size}.mp4"
    make_file(path, size)
    expected = file_digest(path)
    emu, routes, half = bench.emu, [SESSION_ROUTE], size // 2

    def curl() -> tuple[Callable[[], None], Callable[[], None]]:
        answer = bench.work / "curl-resume.json"

        def kill() -> None:
            session_uri, _ = bench.curl_initiate(size)
            kill_at(wrapped(*bench.put_argv(path, size, chunk, session_uri, answer)), {}, emu, routes, half)

        def rerun() -> None:  # curl keeps no state: a new session from byte 0
            session_uri, _ = bench.curl_initiate(size)
            measured(*bench.put_argv(path, size, chunk, session_uri, answer))
        return kill, rerun

    def peer(keep_uri: bool) -> tuple[Callable[[], None], Callable[[], None]]:
        state = bench.work / "google-api-session.json"
        state.unlink(missing_ok=True)
        argv = bench.peer_argv(path, chunk, state if keep_uri else None)

        def rerun() -> None:
            run_json(argv)  # its bytes are checked by the emulator's count of completed videos
        return lambda: kill_at(argv, {}, emu, routes, half), rerun

    def chunkup() -> tuple[Callable[[], None], Callable[[], None]]:
        state = bench.work / "task-state.json"
        state.unlink(missing_ok=True)
        argv = chunkup_command(HOOK, path, **bench.chunkup_kwargs(chunk))
        env = {**bench.env, CHECKPOINT_ENV: str(state)}

        def rerun() -> None:
            assert run_json(argv, env)["sha256"] == expected, "chunkup read the file wrong"
        return lambda: kill_at(argv, env, emu, routes, half), rerun

    rows = []
    for method, (kill, rerun) in (("curl", curl()), (PEER_NAME, peer(False)),
                                  (f"{PEER_NAME} (URI kept)", peer(True)), ("chunkup", chunkup())):
        bench.fresh()
        row = resume_row(method, size, kill, rerun, emu, routes, lambda: bench.uploads(expected))
        assert row["media_completed"] >= 1, f"{method}: {row}"  # 2 if a kill came too late
        rows.append({"chunk_mib": mib(chunk), **row})
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
    names = ("google-api-python-client", "google-auth", "google-auth-httplib2", "httplib2")
    code = f"import importlib.metadata as m; print(' '.join(m.version(p) for p in {names!r}))"
    found = subprocess.run([str(PEERS_PYTHON), "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return dict(zip(names, found, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="64 MiB (RSS: 128, resume: 64), one repeat")
    parser.add_argument("--size-mib", type=int)
    parser.add_argument("--chunks-mib", type=int, nargs="+", default=[16, 64],
                        help="chunk sizes in MiB (whole MiB: multiples of 256 KiB, as Google requires)")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--rss-mib", type=int, help="peak RSS also at this file size (one run each)")
    parser.add_argument("--resume-mib", type=int)
    parser.add_argument("--latency-ms", type=int, nargs="*", default=[100],
                        help="also with each request held this long (none: skip)")
    parser.add_argument("--output", type=Path, help="default: bench/results/youtube_upload.json "
                                                    "(--quick: a temp file)")
    args = parser.parse_args()
    size = (args.size_mib or (64 if args.quick else 256)) * MiB
    rss_size = (args.rss_mib or (128 if args.quick else 1024)) * MiB
    resume_size = (args.resume_mib or (64 if args.quick else 256)) * MiB
    repeats = args.repeats or (1 if args.quick else 5)  # 5: the loopback runs are short, so noisier
    chunks = [c * MiB for c in args.chunks_mib]
    output = args.output or (Path(tempfile.gettempdir()) / "youtube_upload_quick.json" if args.quick
                             else HERE / "results" / "youtube_upload.json")
    require_curl()
    require_peers()
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-youtube-"))
    try:
        with emulator(CONFIG) as emu:
            bench = Bench(emu, work)
            idle_rss_mib = idle(bench)
            print(f"YouTube on {emu.url}: idle RSS {idle_rss_mib}", flush=True)
            rows = timed(bench, chunks, size, repeats)
            for latency in args.latency_ms:
                print(f"{latency} ms per request", flush=True)
                rows += with_latency(bench, chunks[0], size, repeats, latency)
            print(f"peak RSS at {mib(size):g} and {mib(rss_size):g} MiB", flush=True)
            rss = rss_by_size(bench, rows, chunks[0], [size, rss_size], idle_rss_mib)
            print(f"resume after a kill half-way through {mib(resume_size):g} MiB", flush=True)
            resumed = resume(bench, resume_size, chunks[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write(output, rows, rss, resumed, idle_rss_mib, {
        "size_mib": mib(size), "chunks_mib": [mib(c) for c in chunks], "repeats": repeats,
        "latency_ms": args.latency_ms, "rss_sizes_mib": [mib(size), mib(rss_size)],
        "resume_size_mib": mib(resume_size), "resume_chunk_mib": mib(chunks[0]),
        "curl_split_seconds": bench.split_seconds,
        "notes": [
            "One session per upload, its chunks PUT in order, one at a time, by every method (Google's protocol "
            "is sequential); the emulator keeps the whole of each 256 KiB-aligned chunk and answers 308 + Range, "
            "201 + the video on the last.",
            "latency_ms: the emulator holds every request to /upload/youtube/v3/videos (initiation and chunk "
            "PUTs) that long before answering (its delay fault), at the first chunk size.",
            "curl: the parts are cut with split before the runs (not timed); its time is the initiation's curl "
            "plus the PUTs' curl; peak RSS the larger of the two (through a wrapper whose only child it is).",
            "google-api-python-client: timed from the first next_chunk() (the initiation) to the video, the "
            "client built from its static discovery document before; chunkup: hook.upload(), the connection "
            "fetched before.",
            "chunkup: the file's sha256 computed as it goes (its UploadResult); chunkup nosum: checksum=False, "
            "the work the peers do. YouTube takes no per-chunk checksum.",
            "Peak RSS of the Python children is VmHWM (ru_maxrss starts at the spawning parent's RSS); chunkup's "
            "includes Airflow's SDK, which a worker has loaded anyway.",
            "resume: chunk PUT body bytes as the emulator read them, including the part of a PUT the kill cut "
            "(of which the emulator keeps the 256 KiB-aligned prefix, as Google does); sessions initiated / "
            "videos completed byte-exact. google-api-python-client as users run it keeps no session and starts "
            "over; '(URI kept)': the script stores request.resumable_uri after the first chunk and, run again, "
            "sets it back with the private _in_error_state flag so the client asks the offset first.",
            "The emulator, the client and curl share the machine's cores: on loopback client CPU is wall time.",
        ],
    })
    return 0


def write(output: Path, rows: list[dict[str, Any]], rss: list[dict[str, Any]], resumed: list[dict[str, Any]],
          idle_rss_mib: dict[str, float], settings: dict[str, Any]) -> None:
    """Print the tables and write the JSON."""
    print(f"\n{'latency':>7} {'chunk':>7} {'method':<26} {'median s':>9} {'MiB/s':>7} {'x curl':>7} "
          f"{'CPU s':>6} {'peak RSS':>9} {'over idle':>10}")
    for r in rows:
        base = idle_rss_mib["chunkup" if r["method"].startswith("chunkup") else r["method"]]
        r["peak_rss_over_idle_mib"] = round(r["peak_rss_mib"] - base, 1) if r["peak_rss_mib"] else None
        print(f"{r['latency_ms']:>4} ms {r['chunk_mib']:>3g} MiB {r['method']:<26} {r['median_seconds']:>9.2f} "
              f"{r['mib_per_second']:>7.1f} {r['time_vs_curl']:>7.2f} {r['client_cpu_seconds']:>6.2f} "
              f"{r['peak_rss_mib']:>5.0f} MiB {r['peak_rss_over_idle_mib']:>6.0f} MiB")
    print(f"\n{'size':>9} {'method':<26} {'peak RSS':>9} {'over idle':>10}")
    for r in rss:
        print(f"{r['size_mib']:>5g} MiB {r['method']:<26} {r['peak_rss_mib']:>5.0f} MiB "
              f"{r['above_idle_mib']:>6.0f} MiB")
    print(f"\n{'method':<36} {'killed after':>13} {'sent again':>11} {'sessions':>9} {'completed':>9}")
    for r in resumed:
        print(f"{r['method']:<36} {r['killed_after_mib']:>9.1f} MiB {r['bytes_sent_again_mib']:>7.2f} MiB "
              f"{r['remote_uploads_created']:>9} {r['media_completed']:>9}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "youtube_upload", "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
        "versions": {**versions(api_video=False), **peer_versions()}, **settings,
        "idle_rss_mib": idle_rss_mib, "results": rows, "rss_by_size": rss, "resume": resumed,
    }, indent=2) + "\n")
    print(f"\nwritten to {output}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
