"""Content-Range upload benchmark: 204800-byte chunks, chunkup against curl, in one run.

    .venv/bin/python bench/content_range_upload.py [--sizes-mb 5 50] [--repeats 5]

Small chunks make per-request overhead the thing to beat. With the emulator in its own process on
loopback, for each file size (SelfCommunity's limits: images 5 MB, documents 50 MB):

- ``curl``: ``md5sum`` of the file (complete needs it), then one ``curl`` for the first chunk (its
  answer names the ``upload_id``), one ``curl`` sending every other chunk in order over one kept-alive
  connection (``--next``), and one for complete: the baseline.
- ``chunkup``: ``ContentRangeUploadHook.upload`` (md5 and sha256 computed as the chunks pass).
- ``chunkup nosum``: without the sha256 (the md5 the API needs is always computed).

Medians, ratios to curl and everything measured go to ``bench/results/content_range_upload.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from common import HERE, children_cpu, curl, emulator, idle_rss, measure, report, require_curl, run_chunkup, split

TOKEN = "chunkup-content-range-token"
CHUNK = 204800
HOOK = "airflow_provider_chunkup.hooks.content_range:ContentRangeUploadHook"
CHUNK_PATH = "/api/v2/media/upload/chunk/"
COMPLETE_PATH = "/api/v2/media/upload/complete/"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[5, 50])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "content_range_upload.json")
    args = parser.parse_args()
    require_curl()
    with emulator({}) as emu:
        env = {"AIRFLOW_CONN_CHUNKUP_CONTENT_RANGE_DEFAULT": json.dumps({
            "conn_type": "chunkup_content_range", "host": emu.url, "password": TOKEN})}
        work = Path(tempfile.mkdtemp(prefix="chunkup-bench-cr-"))

        def chunkup(checksum: bool):
            def run(path: Path, size: int, expected: str) -> dict:
                out = run_chunkup(HOOK, env, path, media_type="application/pdf", checksum=checksum)
                assert out["sha256"] == (expected if checksum else None), "chunkup read the file wrong"
                return out
            return run

        def with_curl(path: Path, size: int, expected: str) -> dict:
            folder = work / f"parts-{path.stem}"
            parts = sorted(folder.glob("part-*")) or split(path, CHUNK, folder)
            auth = ["-H", f"Authorization: Bearer {TOKEN}"]

            def chunk_args(index: int, part: Path, upload_id: str | None) -> list[str]:
                start = index * CHUNK
                end = start + part.stat().st_size - 1
                return [*auth, "-H", f"Content-Range: bytes {start}-{end}/{size}",
                        *(["-F", f"upload_id={upload_id}"] if upload_id else []),
                        "-F", f"document=@{part}", f"{emu.url}{CHUNK_PATH}"]

            with children_cpu() as cpu:
                started = time.perf_counter()
                md5 = subprocess.run(["md5sum", str(path)], check=True, capture_output=True,
                                     text=True).stdout.split()[0]
                upload_id = json.loads(curl(*chunk_args(0, parts[0], None)))["upload_id"]
                rest: list[str] = []
                for index, part in enumerate(parts[1:], start=1):
                    rest += [*(["--next", "-sS", "--fail-with-body"] if rest else []), "-o", "/dev/null",
                             *chunk_args(index, part, upload_id)]
                if rest:
                    curl(*rest)
                curl("-o", "/dev/null", *auth, "-F", f"upload_id={upload_id}", "-F", f"md5={md5}", "-F", "type=doc",
                     f"{emu.url}{COMPLETE_PATH}")
                seconds = time.perf_counter() - started
            return {"seconds": seconds, "media_id": upload_id, **cpu}

        def received(upload_id: str) -> str | None:
            got = httpx.get(f"{emu.url}/_emulator/content-range/uploads/{upload_id}").json()
            return got["sha256"] if got["complete"] else None

        def chunkup_upload_id(run):
            def wrapped(path: Path, size: int, expected: str) -> dict:
                out = run(path, size, expected)
                # The child reports the Media id; the inspection endpoint is keyed by upload_id.
                uploads = httpx.get(f"{emu.url}/_emulator/content-range/uploads").json()
                out["media_id"] = uploads[0]["upload_id"]
                return out
            return wrapped

        idle = idle_rss(HOOK, env)
        print(f"emulator {emu.url}; {CHUNK}-byte chunks; idle interpreter: {idle:.0f} MiB RSS")
        methods = {"curl": with_curl, "chunkup": chunkup_upload_id(chunkup(True)),
                   "chunkup nosum": chunkup_upload_id(chunkup(False))}
        rows = measure(methods, [mb * 1000 * 1000 for mb in args.sizes_mb], args.repeats, emu, received, "curl", work)
    report("content_range_upload", rows, "curl", idle, args.output, {"chunk_bytes": CHUNK, "repeats": args.repeats})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
