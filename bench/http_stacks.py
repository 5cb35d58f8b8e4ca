"""Which HTTP stack an in-order upload can afford: the same Content-Range requests through each, against curl.

    .venv/bin/python bench/http_stacks.py [--size-mb 50] [--repeats 5]

Content-Range sends its 204800-byte chunks strictly in order, each waiting for the answer to the one
before: whatever a client spends per request is wall time. One file, the emulator in its own process on
loopback, every method sending the same requests (first chunk, every other chunk with its ``upload_id``,
complete with the md5) and hashing the file as chunkup does (md5 and sha256, in line here), 5 interleaved
runs, each upload checked by the emulator's sha256:

- ``curl``: as ``bench/content_range_upload.py`` runs it (``md5sum``, then the chunks over one kept-alive
  connection): the baseline;
- ``asyncio by hand``: asyncio's streams, the request written and the answer parsed by a few lines of code;
- ``h11 on asyncio``: the same with h11 (httpcore's HTTP/1.1 parser) framing both;
- ``aiohttp``: ``aiohttp.ClientSession`` (installed with s3fs);
- ``httpx, httpcore``: ``httpx.AsyncClient`` as it comes (httpcore's connection pool);
- ``httpx, chunkup's transport``: ``httpx.AsyncClient`` on ``protocols/http1.py``;
- ``chunkup``: ``ContentRangeUploadHook.upload`` in the same process (its reads and hashes in a thread).

Every method but curl runs in this one process, which has imported everything beforehand; wall time and
this process's CPU over the upload go to ``bench/results/http_stacks.json`` with the machine and versions.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.metadata
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import h11
import httpx
from common import HERE, emulator, make_file, require_curl
from content_range_upload import CHUNK, COMPLETE_PATH, TOKEN, Bench
from peers.apivideo_harness import machine

from airflow_provider_chunkup.protocols.http1 import http_transport

MB = 1000 * 1000
BOUNDARY = "chunkupbench0123456789"
Sender = Callable[[str, bytes, dict[str, str]], Awaitable[tuple[int, bytes]]]
"""(path, body, headers) -> (status, answer body): one request over the method's kept-alive connection."""


def form(fields: dict[str, str], data: bytes | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body (the chunk as the ``document`` file part, as SelfCommunity's API names it)."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    if data is not None:
        parts += [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="document"; filename="f.pdf"\r\n'
                  f"Content-Type: application/pdf\r\n\r\n".encode(), data, b"\r\n"]
    return b"".join([*parts, f"--{BOUNDARY}--\r\n".encode()]), f"multipart/form-data; boundary={BOUNDARY}"


async def upload(path: Path, size: int, send: Sender) -> str:
    """The Content-Range upload of ``path`` through ``send``: its upload_id."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    upload_id = None
    fd = os.open(path, os.O_RDONLY)
    try:
        for offset in range(0, size, CHUNK):
            data = os.pread(fd, CHUNK, offset)
            md5.update(data)
            sha256.update(data)
            body, content_type = form({"upload_id": upload_id} if upload_id else {}, data)
            status, answer = await send("/api/v2/media/upload/chunk/", body, {
                "Content-Type": content_type, "Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{size}"})
            if status >= 300:
                raise RuntimeError(f"chunk at {offset}: HTTP {status} {answer[:200]!r}")
            upload_id = json.loads(answer)["upload_id"]
    finally:
        os.close(fd)
    assert upload_id is not None
    body, content_type = form({"upload_id": upload_id, "md5": md5.hexdigest(), "type": "doc"})
    status, answer = await send(COMPLETE_PATH, body, {"Content-Type": content_type})
    if status >= 300:
        raise RuntimeError(f"complete: HTTP {status} {answer[:200]!r}")
    return upload_id


async def by_hand(url: str, path: Path, size: int) -> str:
    host, port = httpx.URL(url).host, httpx.URL(url).port
    reader, writer = await asyncio.open_connection(host, port)

    async def send(target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = "".join(f"{name}: {value}\r\n" for name, value in {
            "Host": f"{host}:{port}", "Authorization": f"Bearer {TOKEN}", **headers,
            "Content-Length": str(len(body))}.items())
        writer.write(f"POST {target} HTTP/1.1\r\n{head}\r\n".encode() + body)
        await writer.drain()
        lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:"))
        return int(lines[0].split()[1]), await reader.readexactly(length)

    try:
        return await upload(path, size, send)
    finally:
        writer.close()


async def h11_on_asyncio(url: str, path: Path, size: int) -> str:
    host, port = httpx.URL(url).host, httpx.URL(url).port
    reader, writer = await asyncio.open_connection(host, port)
    connection = h11.Connection(h11.CLIENT)

    async def send(target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        fields = {"Host": f"{host}:{port}", "Authorization": f"Bearer {TOKEN}", **headers,
                  "Content-Length": str(len(body))}
        for event in (h11.Request(method="POST", target=target, headers=list(fields.items())), h11.Data(data=body),
                      h11.EndOfMessage()):
            writer.write(connection.send(event))  # type: ignore[arg-type]
        await writer.drain()
        status, answer = 0, bytearray()
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                answer += event.data
            elif isinstance(event, h11.EndOfMessage):
                connection.start_next_cycle()
                return status, bytes(answer)

    try:
        return await upload(path, size, send)
    finally:
        writer.close()


async def with_aiohttp(url: str, path: Path, size: int) -> str:
    async with aiohttp.ClientSession(url, headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        async def send(target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
            async with session.post(target, data=body, headers=headers) as response:
                return response.status, await response.read()

        return await upload(path, size, send)


def with_httpx(transport: Callable[[], httpx.AsyncBaseTransport | None]) -> Callable[[str, Path, int], Awaitable[str]]:
    async def run(url: str, path: Path, size: int) -> str:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"},
                                     transport=transport()) as client:
            async def send(target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
                response = await client.post(target, content=body, headers=headers)
                return response.status_code, response.content

            return await upload(path, size, send)
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "http_stacks.json")
    args = parser.parse_args()
    require_curl()
    size = args.size_mb * MB
    stacks = {
        "asyncio by hand": by_hand, "h11 on asyncio": h11_on_asyncio, "aiohttp": with_aiohttp,
        "httpx, httpcore": with_httpx(lambda: None),
        "httpx, chunkup's transport": with_httpx(lambda: http_transport(verify=False,  # type: ignore[arg-type]
                                                                        limits=httpx.Limits())),
    }
    with emulator({}) as emu, tempfile.TemporaryDirectory(prefix="chunkup-bench-stacks-") as scratch:
        work = Path(scratch)
        bench = Bench(emu, work)
        os.environ.update(bench.env)
        from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook
        from airflow_provider_chunkup.sources import file_digest

        hook = ContentRangeUploadHook()
        hook.get_conn()
        path = work / "document.pdf"
        make_file(path, size)
        expected = file_digest(path)

        def in_process(name: str) -> Callable[[], str]:
            if name == "chunkup":
                def chunkup() -> str:
                    hook.upload(str(path), media_type="application/pdf")
                    return emu.get("/_emulator/content-range/uploads")[0]["upload_id"]
                return chunkup
            return lambda: asyncio.run(stacks[name](emu.url, path, size))

        runs: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.repeats):
            out = bench.curl(path, size, expected)
            if bench.received(out["media_id"]) != expected:
                raise AssertionError("curl: the emulator received other bytes")
            runs.setdefault("curl", []).append((out["seconds"], out["cpu_seconds"]))
            emu.clear_received()
            for name in [*stacks, "chunkup"]:
                started, cpu = time.perf_counter(), time.process_time()
                upload_id = in_process(name)()
                runs.setdefault(name, []).append((time.perf_counter() - started, time.process_time() - cpu))
                if bench.received(upload_id) != expected:
                    raise AssertionError(f"{name}: the emulator received other bytes")
                emu.clear_received()
    base = statistics.median(seconds for seconds, _ in runs["curl"])
    rows = []
    print(f"\n{'stack':<28} {'median s':>9} {'time/curl':>10} {'CPU s':>7}")
    for name, measured in runs.items():
        median = statistics.median(seconds for seconds, _ in measured)
        cpu = statistics.median(cpu for _, cpu in measured)
        rows.append({"method": name, "median_seconds": round(median, 3), "time_vs_curl": round(median / base, 3),
                     "client_cpu_seconds": round(cpu, 3), "runs": [round(seconds, 3) for seconds, _ in measured]})
        print(f"{name:<28} {median:>9.3f} {median / base:>10.2f} {cpu:>7.3f}")
    versions = {name: importlib.metadata.version(name) for name in ("httpx", "httpcore", "h11", "aiohttp")}
    args.output.write_text(json.dumps({
        "benchmark": "http_stacks", "date": time.strftime("%Y-%m-%d"), "machine": machine(),
        "versions": {"chunkup": importlib.metadata.version("airflow-provider-chunkup"), **versions},
        "size_bytes": size, "chunk_bytes": CHUNK, "repeats": args.repeats,
        "notes": ["curl's CPU is its processes' (md5sum and curl); every other method's is this process's over "
                  "the upload, its md5 and sha256 included (chunkup's in its reading thread, the others' in line)."],
        "results": rows}, indent=2) + "\n")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
