"""Content-Range upload benchmark: 204800-byte chunks, chunkup against curl, in one run.

    .venv/bin/python bench/content_range_upload.py [--quick] [--sizes-mb 5 50] [--repeats 5]

Small chunks make per-request overhead the thing to beat. With the emulator in its own process on
loopback, for each file size (SelfCommunity's limits: images 5 MB, documents 50 MB), each upload
checked byte-exact on the emulator:

- ``curl``: ``md5sum`` of the file (complete needs it), one ``curl`` for the first chunk (its answer
  names the ``upload_id``), one ``curl -K`` sending every other chunk in order over one kept-alive
  connection, and one for complete: the baseline. The chunks are cut with ``split`` beforehand (not timed).
- ``chunkup``: ``ContentRangeUploadHook.upload`` (md5 and sha256 computed as the chunks pass).
- ``chunkup nosum``: without the sha256 (the md5 the API needs is always computed).

Every method runs in a fresh process reporting wall time, CPU and peak RSS (curl's through a wrapper
whose only child it is); repetitions are interleaved. Then:

- peak RSS against file size (``--rss-sizes-mib``, one run each) as stock django-chunked-upload
  (field ``file``, no size limit: SelfCommunity stops documents at 50 MB), still 204800-byte chunks;
- resume: each method's process is SIGKILLed once the emulator holds half of a ``--resume-mb`` file
  and started again: chunkup with the same call and a ``Checkpoint`` in a JSON file (Airflow's task
  state store in a DAG), curl from the start (a new ``upload_id``).

Everything goes to ``bench/results/content_range_upload.json``.
"""

from __future__ import annotations

import argparse
import json
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
)
from peers.apivideo_harness import (
    curl_config,
    kill_at,
    measured,
    resume_row,
    rss_row,
    run_json,
    versions,
    wrapped,
    write_report,
)

TOKEN = "chunkup-content-range-token"
CHUNK = 204800
HOOK = "airflow_provider_chunkup.hooks.content_range:ContentRangeUploadHook"
CHUNK_PATH = "/api/v2/media/upload/chunk/"
COMPLETE_PATH = "/api/v2/media/upload/complete/"
CHUNK_ROUTE = f"POST {CHUNK_PATH}"
MiB = 1024 * 1024
MB = 1000 * 1000

Method = Callable[[Path, int, str], dict[str, Any]]


class Bench:
    """The methods, bound to one emulator and scratch directory; ``field`` picks SelfCommunity's or stock django's."""

    def __init__(self, emu: Emulator, work: Path, field: str = "document") -> None:
        self.emu = emu
        self.work = work
        self.field = field
        self.split_seconds: dict[float, float] = {}
        self.env = {"AIRFLOW_CONN_CHUNKUP_CONTENT_RANGE_DEFAULT": json.dumps({
            "conn_type": "chunkup_content_range", "host": emu.url, "password": TOKEN})}

    def chunkup_kwargs(self, checksum: bool = True) -> dict[str, Any]:
        kind = {"media_type": "application/pdf"} if self.field == "document" else {"media_category": "file"}
        return {**kind, "checksum": checksum}

    def chunkup(self, checksum: bool) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            out = run_chunkup(HOOK, self.env, path, **self.chunkup_kwargs(checksum))
            assert out["sha256"] == (expected if checksum else None), "chunkup read the file wrong"
            # The child reports the Media id; the inspection endpoint is keyed by upload_id (newest first).
            out["media_id"] = self.emu.get("/_emulator/content-range/uploads")[0]["upload_id"]
            return out
        return run

    def parts(self, path: Path) -> list[Path]:
        """The file cut into chunk files for curl, once per file (timed apart: ``curl_split_seconds``)."""
        folder = self.work / f"parts-{path.stem}"
        if not folder.exists():
            started = time.perf_counter()
            folder.mkdir()  # six-digit suffixes: 4 GiB is 20972 chunks
            subprocess.run(["split", "-b", str(CHUNK), "-d", "-a", "6", str(path), f"{folder}/part-"], check=True)
            self.split_seconds[round(path.stat().st_size / MiB, 2)] = round(time.perf_counter() - started, 3)
        return sorted(folder.glob("part-*"))

    def curl_chunk(self, index: int, part: Path, size: int, upload_id: str | None) -> list[tuple[str, str]]:
        start = index * CHUNK
        end = start + part.stat().st_size - 1
        return [("header", f"Authorization: Bearer {TOKEN}"), ("header", f"Content-Range: bytes {start}-{end}/{size}"),
                *([("form", f"upload_id={upload_id}")] if upload_id else []),
                ("form", f"{self.field}=@{part}"), ("url", f"{self.emu.url}{CHUNK_PATH}")]

    def curl_first(self, path: Path, size: int) -> tuple[str, str, list[Measured]]:
        """``md5sum``, then the first chunk: (upload_id, md5, measurements)."""
        parts = self.parts(path)
        md5 = measured("md5sum", path)
        config = self.work / "curl-first.conf"
        config.write_text(curl_config([self.curl_chunk(0, parts[0], size, None)]))
        sent = measured("curl", "-K", config)
        return json.loads(sent.stdout)["upload_id"], md5.stdout.split()[0], [md5, sent]

    def curl_rest_argv(self, path: Path, size: int, upload_id: str) -> list[str]:
        """One curl sending every chunk after the first, in order, over one connection."""
        config = self.work / f"curl-{upload_id}.conf"
        config.write_text(curl_config([[("output", "/dev/null"), *self.curl_chunk(i, part, size, upload_id)]
                                       for i, part in enumerate(self.parts(path)) if i]))
        return ["curl", "-K", str(config)]

    def curl_complete(self, upload_id: str, md5: str) -> Measured:
        kind = [("form", "type=doc")] if self.field == "document" else []
        config = self.work / "curl-complete.conf"
        config.write_text(curl_config([[("output", "/dev/null"), ("header", f"Authorization: Bearer {TOKEN}"),
                                        ("form", f"upload_id={upload_id}"), ("form", f"md5={md5}"), *kind,
                                        ("url", f"{self.emu.url}{COMPLETE_PATH}")]]))
        return measured("curl", "-K", config)

    def curl(self, path: Path, size: int, expected: str) -> dict[str, Any]:
        self.parts(path)  # cut outside the timing
        upload_id, md5, steps = self.curl_first(path, size)
        if size > CHUNK:
            steps.append(measured(*self.curl_rest_argv(path, size, upload_id)))
        steps.append(self.curl_complete(upload_id, md5))
        return {"seconds": sum(s.seconds for s in steps), "cpu_seconds": sum(s.cpu_seconds for s in steps),
                "peak_rss_mib": max(s.peak_rss_mib for s in steps), "media_id": upload_id}

    def received(self, upload_id: str) -> str | None:
        got = self.emu.get(f"/_emulator/content-range/uploads/{upload_id}")
        return got["sha256"] if got["complete"] else None

    @staticmethod
    def checked(out: dict[str, Any], expected: str) -> None:
        assert out["sha256"] == expected, "chunkup read the file wrong"

    # -- resume after a kill half-way --------------------------------------------------------------

    def resume(self, path: Path, size: int, expected: str) -> list[dict[str, Any]]:
        emu, url, routes, half = self.emu, self.emu.url, [CHUNK_ROUTE], size // 2

        def uploads() -> tuple[int, int]:
            listed = emu.get("/_emulator/content-range/uploads")
            return len(listed), sum(1 for u in listed if u["complete"] and u["sha256"] == expected)

        def curl_kill() -> None:
            upload_id, _, _ = self.curl_first(path, size)
            kill_at(wrapped(*self.curl_rest_argv(path, size, upload_id)), {}, emu, routes, half)

        store = self.work / "task-state.json"
        store.unlink(missing_ok=True)
        argv = chunkup_command(HOOK, path, **self.chunkup_kwargs())
        env = {**self.env, CHECKPOINT_ENV: str(store)}
        rows = []
        for method, kill, rerun in (
                ("curl", curl_kill, lambda: self.curl(path, size, expected)),
                ("chunkup", lambda: kill_at(argv, env, emu, routes, half),
                 lambda: self.checked(run_json(argv, env), expected))):
            httpx.post(f"{url}/_emulator/reset").raise_for_status()
            self.emu.clear_received()
            rows.append(resume_row(method, size, kill, rerun, emu, routes, uploads))
        shutil.rmtree(self.work / f"parts-{path.stem}", ignore_errors=True)
        return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and one repeat, to check the script")
    parser.add_argument("--sizes-mb", type=int, nargs="+")
    parser.add_argument("--rss-sizes-mib", type=int, nargs="+")
    parser.add_argument("--resume-mb", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "content_range_upload.json")
    add_pin_argument(parser)
    args = parser.parse_args()
    args.output = pinned_output(args.output, args.pin)  # pinned: time and CPU only, no peak RSS or resume rows
    sizes = args.sizes_mb or ([1, 5] if args.quick else [5, 50])
    rss_sizes = args.rss_sizes_mib or ([8, 32] if args.quick else [256, 1024, 4096])
    resume_mb = args.resume_mb or (20 if args.quick else 50)
    repeats = args.repeats or (1 if args.quick else 5)
    require_curl()
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-cr-"))
    try:
        with emulator({}, pin=args.pin) as emu:
            bench = Bench(emu, work)
            idle = {"curl": measured("curl", "--version").peak_rss_mib,
                    "chunkup": idle_rss(HOOK, bench.env)}
            print(f"emulator {emu.url}; {CHUNK}-byte chunks; idle RSS: {idle}", flush=True)
            methods: dict[str, Method] = {"curl": bench.curl, "chunkup": bench.chunkup(True),
                                          "chunkup nosum": bench.chunkup(False)}
            rows = measure(methods, [mb * MB for mb in sizes], repeats, emu, bench.received, "curl", work)
            for row in rows:
                print(f"  {row['size_mib']:g} MiB {row['method']}: {row['median_seconds']} s", flush=True)
            big = Bench(emu, work, field="file")  # stock django-chunked-upload: no size limit
            rss_by_size: list[dict[str, Any]] = []
            resume: list[dict[str, Any]] = []
            if not args.pin:
                for row in measure({"curl": big.curl, "chunkup": big.chunkup(True)}, [s * MiB for s in rss_sizes],
                                   1, emu, big.received, "curl", work):
                    print(f"  rss {row['size_mib']:g} MiB {row['method']}: {row['peak_rss_mib']} MiB, "
                          f"{row['median_seconds']} s", flush=True)
                    rss_by_size.append(rss_row(row["method"], row["size_mib"], row, idle))
                path = work / f"resume-{resume_mb}.pdf"
                make_file(path, resume_mb * MB)
                from airflow_provider_chunkup.sources import file_digest

                resume = bench.resume(path, resume_mb * MB, file_digest(path))
                path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report("content_range_upload", rows, args.output, idle_rss_mib=idle, rss_by_size=rss_by_size,
                 resume=resume, versions=versions(api_video=False),
                 settings={"chunk_bytes": CHUNK, "repeats": repeats, "resume_size_mb": resume_mb, "pinned": args.pin,
                           "curl_parts": "cut with split before the timed runs (not timed)",
                           "curl_split_seconds": {**bench.split_seconds, **big.split_seconds},
                           "rss_runs": "stock django-chunked-upload field 'file' (no size limit), one run each",
                           "chunkup_checkpoint": "JSON file key-value store (Airflow's task state store stand-in)"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
