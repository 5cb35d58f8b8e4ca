"""api.video upload benchmark: chunkup against api.video's official Python client and curl, in one run.

    .venv/bin/python bench/apivideo_upload.py [--quick] [--sizes-mib 256 1024] [--repeats 3] [--part-mib 16]

With the emulator in its own process on loopback, every method sends the same file in the same
``--part-mib`` parts (``Content-Range: part N/M``; chunkup, in part mode, splits a 1 MiB tail off the last,
the part that must go alone), and each upload is checked byte-exact on the emulator:

- ``curl``: ``POST /videos``, then one ``curl`` process sending the parts in order over one
  kept-alive connection (``curl -K``; the parts are cut with ``split`` beforehand, not timed): the baseline.
- ``official client``: ``api.video`` 1.4.7 from PyPI (``bench/peers/apivideo_client.py``, its own
  venv): ``AuthenticatedApiClient`` with its ``chunk_size``, ``videos.create`` then ``videos.upload``.
- ``chunkup x1``, ``chunkup x4``: ``ApiVideoHook.upload`` with one or four parts in flight.
- ``chunkup x1 nosum`` (no latency only): without the sha256 chunkup computes as parts pass (the
  peers compute none), to show what it costs.

``--latency-ms`` (0 and 100 by default) makes the emulator hold each part request that long before
answering (its ``delay`` fault), as a platform across a network would. Every method runs in a fresh
process reporting its wall time, CPU and peak RSS (curl's through a wrapper whose only child it is);
repetitions are interleaved. Then:

- peak RSS against file size (``--rss-sizes-mib``, one run each; sizes already timed reuse those runs);
- resume: each method's process is SIGKILLed once the emulator holds half of a ``--resume-mib`` file,
  then started again the way its user would: chunkup with the same call and a ``Checkpoint`` in a
  JSON file (Airflow's task state store in a DAG); the official client (no resume documented) and
  curl from the start, into a new video.

Everything goes to ``bench/results/apivideo_upload.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
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
    add_pin_argument,
    chunkup_command,
    emulator,
    idle_rss,
    make_file,
    measure,
    pinned_output,
    require_curl,
    run_chunkup,
    split,
)
from peers.apivideo_harness import (
    PEERS,
    curl_config,
    kill_at,
    measured,
    require_peers,
    resume_row,
    rss_row,
    run_json,
    versions,
    wrapped,
    write_report,
)

KEY = "chunkup-apivideo-key"
HOOK = "airflow_provider_chunkup.hooks.apivideo:ApiVideoHook"
CLIENT = PEERS / "apivideo_client.py"
SOURCE_ROUTE = "POST /videos/{videoId}/source"
MiB = 1024 * 1024
# Production allows 100 uploads a minute: the repeated runs would measure the limit, not the upload.
UNLIMITED = {"apivideo": {"upload_rate_limit": 10**9, "write_rate_limit": 10**9, "read_rate_limit": 10**9,
                          "encoding_seconds": 0, "playable_after_secs": 0}}

Method = Callable[[Path, int, str], dict[str, Any]]


class Bench:
    """The methods, bound to one emulator, chunk size and scratch directory."""

    def __init__(self, emu: Emulator, chunk: int, work: Path) -> None:
        self.emu = emu
        self.chunk = chunk
        self.work = work
        self.split_seconds: dict[float, float] = {}
        self.env = {"AIRFLOW_CONN_CHUNKUP_APIVIDEO_DEFAULT": json.dumps({
            "conn_type": "chunkup_apivideo", "host": emu.url, "password": KEY, "extra": {"chunk_size": chunk}})}

    # -- one upload by each method ----------------------------------------------------------------

    def chunkup(self, in_flight: int, checksum: bool = True) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            out = run_chunkup(HOOK, self.env, path, **self.chunkup_kwargs(in_flight, checksum))
            assert out["sha256"] == (expected if checksum else None), "chunkup read the file wrong"
            return out
        return run

    @staticmethod
    def chunkup_kwargs(in_flight: int, checksum: bool = True) -> dict[str, Any]:
        return {"options": {"title": "bench"}, "max_in_flight": in_flight, "checksum": checksum}

    def client_argv(self, path: Path) -> list[str]:
        return [str(PEERS_PYTHON), str(CLIENT), self.emu.url, KEY, str(path), str(self.chunk)]

    def official_client(self, path: Path, size: int, expected: str) -> dict[str, Any]:
        return run_json(self.client_argv(path))

    def curl_create(self) -> tuple[str, Measured]:
        """``POST /videos`` with curl: the video id and the measurement."""
        done = measured("curl", "-sS", "--fail-with-body", "-u", f"{KEY}:", "-H", "Content-Type: application/json",
                        "-d", json.dumps({"title": "bench"}), f"{self.emu.url}/videos")
        return json.loads(done.stdout)["videoId"], done

    def parts(self, path: Path) -> list[Path]:
        """The file cut into part files for curl, once per file (timed apart: ``curl_split_seconds``)."""
        folder = self.work / f"parts-{path.stem}"
        if not folder.exists():
            started = time.perf_counter()
            split(path, self.chunk, folder)
            self.split_seconds[round(path.stat().st_size / MiB, 2)] = round(time.perf_counter() - started, 3)
        return sorted(folder.glob("part-*"))

    def curl_upload_argv(self, path: Path, video_id: str) -> list[str]:
        parts = self.parts(path)
        config = self.work / f"curl-{video_id}.conf"
        config.write_text(curl_config([
            [("output", "/dev/null"), ("user", f"{KEY}:"), ("header", f"Content-Range: part {i + 1}/{len(parts)}"),
             ("form", f"file=@{part}"), ("url", f"{self.emu.url}/videos/{video_id}/source")]
            for i, part in enumerate(parts)]))
        return ["curl", "-K", str(config)]

    def curl(self, path: Path, size: int, expected: str) -> dict[str, Any]:
        self.parts(path)  # cut outside the timing
        video_id, create = self.curl_create()
        upload = measured(*self.curl_upload_argv(path, video_id))
        return {"seconds": create.seconds + upload.seconds, "cpu_seconds": create.cpu_seconds + upload.cpu_seconds,
                "peak_rss_mib": max(create.peak_rss_mib, upload.peak_rss_mib), "media_id": video_id}

    def received(self, video_id: str) -> str | None:
        return self.emu.get(f"/_emulator/apivideo/videos/{video_id}")["sha256"]

    # -- resume after a kill half-way --------------------------------------------------------------

    def resume(self, path: Path, size: int, expected: str) -> list[dict[str, Any]]:
        emu, url, routes, half = self.emu, self.emu.url, [SOURCE_ROUTE], size // 2

        def uploads() -> tuple[int, int]:
            videos = emu.get("/_emulator/apivideo/videos")
            done = [v for v in videos if v["complete"] and self.received(v["videoId"]) == expected]
            return len(videos), len(done)

        def fresh() -> None:
            httpx.post(f"{url}/_emulator/reset").raise_for_status()  # also restores the startup config
            httpx.patch(f"{url}/_emulator/config", json=UNLIMITED).raise_for_status()
            self.emu.clear_received()

        def chunkup(in_flight: int) -> tuple[Callable[[], None], Callable[[], None]]:
            store = self.work / f"task-state-x{in_flight}.json"
            store.unlink(missing_ok=True)
            argv = chunkup_command(HOOK, path, **self.chunkup_kwargs(in_flight))
            env = {**self.env, CHECKPOINT_ENV: str(store)}
            return (lambda: kill_at(argv, env, emu, routes, half),
                    lambda: self.chunkup_checked(run_json(argv, env), expected))

        def client() -> tuple[Callable[[], None], Callable[[], None]]:
            argv = self.client_argv(path)
            return lambda: kill_at(argv, {}, emu, routes, half), lambda: self.no_check(run_json(argv))

        def curl() -> tuple[Callable[[], None], Callable[[], None]]:
            def kill() -> None:
                video_id, _ = self.curl_create()
                kill_at(wrapped(*self.curl_upload_argv(path, video_id)), {}, emu, routes, half)

            def rerun() -> None:
                video_id, _ = self.curl_create()
                measured(*self.curl_upload_argv(path, video_id))
            return kill, rerun

        rows = []
        for method, (kill, rerun) in (("curl", curl()), ("official client", client()),
                                      ("chunkup x1", chunkup(1)), ("chunkup x4", chunkup(4))):
            fresh()
            rows.append(resume_row(method, size, kill, rerun, emu, routes, uploads))
        shutil.rmtree(self.work / f"parts-{path.stem}", ignore_errors=True)
        return rows

    @staticmethod
    def chunkup_checked(out: dict[str, Any], expected: str) -> None:
        assert out["sha256"] == expected, "chunkup read the file wrong"

    @staticmethod
    def no_check(out: dict[str, Any]) -> None:
        """The emulator's byte-exact copy is what ``uploads`` counts."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and one repeat, to check the script")
    parser.add_argument("--sizes-mib", type=int, nargs="+")
    parser.add_argument("--rss-sizes-mib", type=int, nargs="+")
    parser.add_argument("--resume-mib", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--part-mib", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 100])
    parser.add_argument("--output", type=Path, default=HERE / "results" / "apivideo_upload.json")
    add_pin_argument(parser)
    args = parser.parse_args()
    if args.pin:  # the pinned run is about time and CPU: no latency, peak RSS or resume rows
        args.latency_ms = [0]
    args.output = pinned_output(args.output, args.pin)
    sizes = args.sizes_mib or ([32, 64] if args.quick else [256, 1024])
    rss_sizes = args.rss_sizes_mib or ([32, 64, 128] if args.quick else [256, 1024, 4096])
    resume_mib = args.resume_mib or (64 if args.quick else 1024)
    repeats = args.repeats or (1 if args.quick else 3)
    require_curl()
    require_peers()
    chunk = args.part_mib * MiB
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-apivideo-"))
    try:
        with emulator(UNLIMITED, pin=args.pin) as emu:
            bench = Bench(emu, chunk, work)
            idle = {"curl": measured("curl", "--version").peak_rss_mib,
                    "official client": float(run_json(bench.client_argv(Path("-")))["peak_rss_mib"]),
                    "chunkup": idle_rss(HOOK, bench.env)}
            print(f"emulator {emu.url}; {args.part_mib} MiB parts; idle RSS: {idle}", flush=True)
            methods: dict[str, Method] = {"curl": bench.curl, "official client": bench.official_client,
                                          "chunkup x1": bench.chunkup(1), "chunkup x4": bench.chunkup(4)}
            rows: list[dict[str, Any]] = []
            for latency in args.latency_ms:
                httpx.delete(f"{emu.url}/_emulator/faults").raise_for_status()
                if latency:
                    httpx.post(f"{emu.url}/_emulator/faults", json={
                        "match": r"POST /videos/\w+/source", "action": "delay", "delay_secs": latency / 1000,
                        "times": 0}).raise_for_status()
                at = methods if latency else {**methods, "chunkup x1 nosum": bench.chunkup(1, checksum=False)}
                for row in measure(at, [m * MiB for m in sizes], repeats, emu, bench.received, "curl", work):
                    rows.append({"latency_ms": latency, **row})
                    print(f"  {latency} ms {row['size_mib']:g} MiB {row['method']}: {row['median_seconds']} s",
                          flush=True)
            httpx.delete(f"{emu.url}/_emulator/faults").raise_for_status()
            rss_by_size, resume = [], []
            if not args.pin:
                rss_by_size = rss_rows(rows, rss_sizes, methods, emu, bench, work, idle)
                path = work / f"resume-{resume_mib}.mp4"
                make_file(path, resume_mib * MiB)
                from airflow_provider_chunkup.sources import file_digest

                resume = bench.resume(path, resume_mib * MiB, file_digest(path))
                path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report("apivideo_upload", rows, args.output, idle_rss_mib=idle, rss_by_size=rss_by_size, resume=resume,
                 versions=versions(api_video=True),
                 settings={"part_bytes": chunk, "repeats": repeats, "resume_size_mib": resume_mib, "pinned": args.pin,
                           "curl_parts": "cut with split before the timed runs (not timed)",
                           "curl_split_seconds": bench.split_seconds,
                           "chunkup_checkpoint": "JSON file key-value store (Airflow's task state store stand-in)"})
    return 0


def rss_rows(rows: list[dict[str, Any]], sizes: list[int], methods: dict[str, Method], emu: Emulator, bench: Bench,
             work: Path, idle: dict[str, float]) -> list[dict[str, Any]]:
    """Peak RSS per method and size: from the timed runs without latency where they exist, else one run each."""
    have = {(r["size_mib"], r["method"]): r for r in rows if r["latency_ms"] == 0 and r["method"] in methods}
    missing = [s for s in sizes if not all((float(s), m) in have for m in methods)]
    for row in measure(methods, [s * MiB for s in missing], 1, emu, bench.received, "curl", work):
        have[(row["size_mib"], row["method"])] = row
        print(f"  rss {row['size_mib']:g} MiB {row['method']}: {row['peak_rss_mib']} MiB", flush=True)
    return [rss_row(m, float(s), have[(float(s), m)], idle) for m in methods for s in sizes]


if __name__ == "__main__":
    raise SystemExit(main())
