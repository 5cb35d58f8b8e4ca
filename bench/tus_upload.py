"""tus upload benchmark: chunkup against tuspy 1.1.0 and curl on a tus 1.0.0 server, and against PyVimeo
1.1.2 on Vimeo's tus uploads, in one run.

    .venv/bin/python bench/tus_upload.py [--quick] [--size-mib 256] [--chunks-mib 8 64] [--repeats 5]
                                         [--resume-mib 256] [--no-vimeo]

The emulator runs in its own process on loopback. Every method sends the same file in the same chunks
(one PATCH per chunk, in order), each upload is checked byte-exact by the emulator's inspection sha256,
and each method runs in a fresh process reporting its wall time, CPU and peak RSS. Repetitions are
interleaved; ratios are to curl's median in the same run.

Generic tus server (the emulator's ``/files/``, announcing creation, checksum, termination...):

- ``curl``: the creation ``POST`` with ``Upload-Length`` and ``Upload-Metadata``, then one ``curl -K``
  sending every ``PATCH`` over one kept-alive connection (``-T`` streams each part file; the parts are cut
  with ``split`` beforehand, not timed): the baseline.
- ``tuspy``: ``bench/peers/tuspy_upload.py`` in the peers' venv: ``TusClient(...).uploader(file_path,
  chunk_size, metadata).upload()``. tuspy reads each chunk whole into memory.
- ``chunkup``: ``TusUploadHook.upload`` with the connection's defaults: a sha1 ``Upload-Checksum`` on
  every PATCH (the server announces the checksum extension) and the file's sha256 as it goes.
- ``chunkup nosum``: the same with neither (``checksum: none``, ``checksum=False``): the work the
  peers do.

Vimeo (the emulator's ``/vimeo`` front door: ``POST /me/videos`` with ``upload.approach: tus``, then the
``upload_link`` PATCHed without a token), where the emulator has it:

- ``curl``: the create with curl (JSON), then the PATCHes as above;
- ``PyVimeo``: ``VimeoClient(token).upload(path, data={"name", "chunk_size"})`` (it uploads with tuspy,
  ``retries=3``), ``API_ROOT`` pointed at the emulator;
- ``chunkup``: ``VimeoUploadHook.upload``.

Measured: time and peak RSS at each ``--chunks-mib`` (8 MiB, tus's usual chunk, and 64 MiB:
tuspy's memory follows the chunk); on the tus server, time again with every request held
``--latency-ms`` (100 ms: a server across a network), where ``chunkup parts x4`` joins: a
connection asking 4 in flight sends each chunk as a partial upload, four at a time, and one final
upload joins them (the concatenation extension; tuspy has none); and resume: each method's process
SIGKILLed once the emulator has received half of a ``--resume-mib`` file at the first chunk size,
then started again as its user would
(chunkup: the same call with a ``Checkpoint`` in a JSON file, Airflow's task state store stand-in;
tuspy: its URL storage, ``store_url=True`` with a ``FileStorage``, resumes from the server's offset;
PyVimeo and curl keep no state and start over).

Everything goes to ``bench/results/tus_upload.json`` with the machine, versions and date.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from common import (
    CHECKPOINT_ENV,
    HERE,
    PEERS_PYTHON,
    Emulator,
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
TUS_HOOK = "airflow_provider_chunkup.hooks.tus:TusUploadHook"
VIMEO_HOOK = "airflow_provider_chunkup.hooks.vimeo:VimeoUploadHook"
TUSPY = PEERS / "tuspy_upload.py"
PYVIMEO = PEERS / "pyvimeo_upload.py"
TUS_PATCH = "PATCH /files/{upload_id}"
PARTS_IN_FLIGHT = 4
VIMEO_TOKEN = "vimeo-token"
MEDIA_TYPE = "video/mp4"

Method = Callable[[Path, int, str], dict[str, Any]]


class Target:
    """One tus service on the emulator: how each method uploads to it, and what the emulator received."""

    name: str
    patch_route: str
    """The stats key of the upload URLs' PATCHes: the bytes a resume counts."""

    def __init__(self, emu: Emulator, work: Path) -> None:
        self.emu = emu
        self.work = work
        self.split_seconds: dict[str, float] = {}

    # -- what every target shares -----------------------------------------------------------------

    def parts(self, path: Path, chunk: int) -> list[Path]:
        """The file cut into part files for curl, once per file and chunk (timed apart, not in the runs)."""
        folder = self.work / f"parts-{path.stem}-{chunk}"
        if not folder.exists():
            started = time.perf_counter()
            split(path, chunk, folder)
            self.split_seconds[f"{mib(path.stat().st_size):g} MiB in {mib(chunk):g} MiB"] = round(
                time.perf_counter() - started, 3)
        return sorted(folder.glob("part-*"))

    def patch_argv(self, path: Path, chunk: int, upload_url: str) -> list[str]:
        """One curl sending every part as a PATCH at its offset, over one connection, in order."""
        transfers, offset = [], 0
        for part in self.parts(path, chunk):
            transfers.append([
                ("output", "/dev/null"), ("request", "PATCH"), ("upload-file", str(part)),
                ("header", "Tus-Resumable: 1.0.0"), ("header", "Content-Type: application/offset+octet-stream"),
                ("header", f"Upload-Offset: {offset}"), ("header", "Expect:"), ("url", upload_url)])
            offset += part.stat().st_size
        config = self.work / f"curl-{upload_url.rsplit('/', 1)[-1]}.conf"
        config.write_text(curl_config(transfers))
        return ["curl", "-K", str(config)]

    def curl(self, chunk: int) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            self.parts(path, chunk)  # cut outside the timing
            (upload_url, media_id), create = self.curl_create(path, size)
            upload = measured(*self.patch_argv(path, chunk, upload_url))
            return {"seconds": create.seconds + upload.seconds,
                    "cpu_seconds": create.cpu_seconds + upload.cpu_seconds,
                    "peak_rss_mib": max(create.peak_rss_mib, upload.peak_rss_mib), "media_id": media_id}
        return run

    def chunkup_kwargs(self, chunk: int, checksum: bool = True, in_flight: int = 1) -> dict[str, Any]:
        """``upload()``'s arguments: one PATCH in flight, as the peers send them, unless told otherwise."""
        return {"chunk_size": chunk, "max_in_flight": in_flight, "media_type": MEDIA_TYPE, "checksum": checksum,
                **self.upload_options()}

    def chunkup_method(self, chunk: int, checksum: bool = True, in_flight: int = 1) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            out = run_chunkup(self.hook, self.chunkup_env(checksum, in_flight), path,
                              **self.chunkup_kwargs(chunk, checksum, in_flight))
            assert out["sha256"] == (expected if checksum else None), "chunkup read the file wrong"
            return out
        return run

    def peer_method(self, chunk: int) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            return run_json(self.peer_argv(path, chunk))
        return run

    def methods(self, chunk: int) -> dict[str, Method]:
        raise NotImplementedError

    # -- per target ---------------------------------------------------------------------------------

    hook: str
    peer: str

    def curl_create(self, path: Path, size: int) -> tuple[tuple[str, str], Any]:
        """Create the upload with curl: ((upload URL, media id), the measurement)."""
        raise NotImplementedError

    def chunkup_env(self, checksum: bool, in_flight: int = 1) -> dict[str, str]:
        """The connection; ``in_flight`` above 1 asks parallel parts where the service has them."""
        raise NotImplementedError

    def upload_options(self) -> dict[str, Any]:
        return {}

    def peer_argv(self, path: Path, chunk: int, state: Path | None = None) -> list[str]:
        raise NotImplementedError

    def received(self, media_id: str) -> str | None:
        raise NotImplementedError

    def uploads(self, expected: str) -> tuple[int, int]:
        """(remote uploads created, completed with the file's bytes) since the emulator's last reset."""
        raise NotImplementedError

    def fresh(self) -> None:
        """Forget every upload (and restore the startup config), so a resume run counts only its own."""
        httpx.post(f"{self.emu.url}/_emulator/reset").raise_for_status()
        self.emu.clear_received()


class GenericTus(Target):
    """The emulator's generic tus 1.0.0 server at ``/files/``."""

    name = "tus"
    patch_route = TUS_PATCH
    hook = TUS_HOOK
    peer = "tuspy"

    def methods(self, chunk: int) -> dict[str, Method]:
        return {"curl": self.curl(chunk), "tuspy": self.peer_method(chunk), "chunkup": self.chunkup_method(chunk),
                "chunkup nosum": self.chunkup_method(chunk, checksum=False)}

    def latency_methods(self, chunk: int) -> dict[str, Method]:
        """Where each request waits: one PATCH at a time for everyone, and chunkup's parallel parts."""
        return {"curl": self.curl(chunk), "tuspy": self.peer_method(chunk), "chunkup": self.chunkup_method(chunk),
                f"chunkup parts x{PARTS_IN_FLIGHT}": self.chunkup_method(chunk, in_flight=PARTS_IN_FLIGHT)}

    def curl_create(self, path: Path, size: int) -> tuple[tuple[str, str], Any]:
        metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                            for k, v in (("filename", path.name), ("filetype", MEDIA_TYPE)))
        done = measured("curl", "-sS", "--fail-with-body", "-X", "POST", "-o", "/dev/null", "-D", "-",
                        "-H", "Tus-Resumable: 1.0.0", "-H", f"Upload-Length: {size}",
                        "-H", f"Upload-Metadata: {metadata}", f"{self.emu.url}/files/")
        location = next(line.split(":", 1)[1].strip() for line in done.stdout.splitlines()
                        if line.lower().startswith("location:"))
        url = urljoin(f"{self.emu.url}/files/", location)
        return (url, url.rsplit("/", 1)[-1]), done

    def chunkup_env(self, checksum: bool, in_flight: int = 1) -> dict[str, str]:
        extra: dict[str, Any] = {} if checksum else {"checksum": "none"}
        if in_flight > 1:  # the connection's max_in_flight chooses parallel parts (concatenation) at init
            extra["max_in_flight"] = in_flight
        return {"AIRFLOW_CONN_CHUNKUP_TUS_DEFAULT": json.dumps(
            {"conn_type": "chunkup_tus", "host": f"{self.emu.url}/files/", "extra": extra})}

    def peer_argv(self, path: Path, chunk: int, state: Path | None = None) -> list[str]:
        argv = [str(PEERS_PYTHON), str(TUSPY), str(path), "--endpoint", f"{self.emu.url}/files/",
                "--chunk-size", str(chunk), "--media-type", MEDIA_TYPE]
        return argv + (["--state", str(state)] if state else [])

    def received(self, media_id: str) -> str | None:
        upload = self.emu.get(f"/_emulator/tus/uploads/{media_id}")
        return upload["sha256"] if upload["complete"] else None

    def uploads(self, expected: str) -> tuple[int, int]:
        uploads = self.emu.get("/_emulator/tus/uploads")
        return len(uploads), sum(1 for u in uploads if u["complete"] and u["sha256"] == expected)


class Vimeo(Target):
    """The emulator's Vimeo front door: ``POST /vimeo/me/videos``, then its ``upload_link``."""

    name = "vimeo"
    hook = VIMEO_HOOK
    peer = "PyVimeo"

    def __init__(self, emu: Emulator, work: Path) -> None:
        super().__init__(emu, work)
        self.api = f"{emu.url}/vimeo"
        self.patch_route = vimeo_patch_route(emu)

    def methods(self, chunk: int) -> dict[str, Method]:
        return {"curl": self.curl(chunk), "PyVimeo": self.peer_method(chunk), "chunkup": self.chunkup_method(chunk)}

    def curl_create(self, path: Path, size: int) -> tuple[tuple[str, str], Any]:
        body = {"upload": {"approach": "tus", "size": size}, "name": path.name}
        done = measured("curl", "-sS", "--fail-with-body", "-H", f"Authorization: bearer {VIMEO_TOKEN}",
                        "-H", "Content-Type: application/json",
                        "-H", "Accept: application/vnd.vimeo.*+json;version=3.4", "-d", json.dumps(body),
                        f"{self.api}/me/videos?fields=uri,upload")
        video = json.loads(done.stdout)
        return (urljoin(self.api, video["upload"]["upload_link"]), video["uri"].rsplit("/", 1)[-1]), done

    def chunkup_env(self, checksum: bool, in_flight: int = 1) -> dict[str, str]:
        return {"AIRFLOW_CONN_CHUNKUP_VIMEO_DEFAULT": json.dumps(
            {"conn_type": "chunkup_vimeo", "host": self.api, "password": VIMEO_TOKEN,
             "extra": {}})}

    def upload_options(self) -> dict[str, Any]:
        return {"options": {"name": "bench"}}

    def peer_argv(self, path: Path, chunk: int, state: Path | None = None) -> list[str]:
        return [str(PEERS_PYTHON), str(PYVIMEO), str(path), "--api-root", self.api, "--token", VIMEO_TOKEN,
                "--chunk-size", str(chunk)]

    def received(self, media_id: str) -> str | None:
        return self.emu.get(f"/_emulator/vimeo/videos/{media_id}")["sha256"]  # None until complete

    def uploads(self, expected: str) -> tuple[int, int]:
        videos = self.emu.get("/_emulator/vimeo/videos")
        return len(videos), sum(1 for v in videos if v["sha256"] == expected)


def vimeo_patch_route(emu: Emulator) -> str:
    """The stats key Vimeo's upload-link PATCHes are counted under (``<prefix>/upload/{upload_id}``)."""
    return f"PATCH {emu.get('/_emulator/config')['vimeo']['prefix']}/upload/{{upload_id}}"


def has_vimeo(emu: Emulator) -> bool:
    """Whether this emulator serves Vimeo's front door, and chunkup has its Vimeo hook."""
    try:
        import airflow_provider_chunkup.hooks.vimeo  # noqa: F401
    except ImportError:
        return False
    response = httpx.post(f"{emu.url}/vimeo/me/videos", json={}, headers={"Authorization": "bearer x"})
    return response.status_code != 404


# -- the measures ---------------------------------------------------------------------------------------


def timed(target: Target, chunks: list[int], size: int, repeats: int) -> list[dict[str, Any]]:
    """Every method at every chunk size, interleaved repeats; rows as ``common.measure`` makes them."""
    rows = []
    for chunk in chunks:
        for row in measure(target.methods(chunk), [size], repeats, target.emu, target.received, "curl",
                           target.work):
            rows.append({"target": target.name, "chunk_mib": mib(chunk), "latency_ms": 0, **row})
            print(f"  {target.name} {mib(chunk):g} MiB chunks {row['method']:<14} {row['median_seconds']:>7.2f} s "
                  f"({row['time_vs_curl']:.2f}x curl), peak RSS {row['peak_rss_mib']} MiB", flush=True)
    return rows


def with_latency(target: GenericTus, chunk: int, size: int, repeats: int, latency_ms: int) -> list[dict[str, Any]]:
    """The tus server holding every request ``latency_ms`` before answering (the emulator's ``delay`` fault), as a
    server across a network would: one PATCH at a time for everyone, and chunkup's parallel parts."""
    emu = target.emu
    httpx.post(f"{emu.url}/_emulator/faults", json={"match": "^[A-Z]+ /files/", "action": "delay",
                                                    "delay_secs": latency_ms / 1000, "times": 0}).raise_for_status()
    try:
        rows = []
        for row in measure(target.latency_methods(chunk), [size], repeats, emu, target.received, "curl",
                           target.work):
            rows.append({"target": target.name, "chunk_mib": mib(chunk), "latency_ms": latency_ms, **row})
            print(f"  {target.name} {latency_ms} ms per request {row['method']:<16} {row['median_seconds']:>7.2f} s "
                  f"({row['time_vs_curl']:.2f}x curl)", flush=True)
        return rows
    finally:
        httpx.delete(f"{emu.url}/_emulator/faults").raise_for_status()


def resume(target: Target, size: int, chunk: int) -> list[dict[str, Any]]:
    """Each method killed once the emulator received half the file, then run again to the end."""
    from airflow_provider_chunkup.sources import file_digest

    path = target.work / f"resume-{size}.mp4"
    make_file(path, size)
    expected = file_digest(path)
    emu, routes, half = target.emu, [target.patch_route], size // 2

    def curl() -> tuple[Callable[[], None], Callable[[], None]]:
        def kill() -> None:
            (url, _), _ = target.curl_create(path, size)
            kill_at(wrapped(*target.patch_argv(path, chunk, url)), {}, emu, routes, half)

        def rerun() -> None:  # curl keeps no state: a new upload from the start
            (url, _), _ = target.curl_create(path, size)
            measured(*target.patch_argv(path, chunk, url))
        return kill, rerun

    def peer() -> tuple[Callable[[], None], Callable[[], None]]:
        state = target.work / f"{target.peer}-urls.json"
        state.unlink(missing_ok=True)
        argv = target.peer_argv(path, chunk, state)  # PyVimeo takes no state: it starts over

        def rerun() -> None:
            run_json(argv)  # its bytes are checked by the emulator's count of completed uploads
        return lambda: kill_at(argv, {}, emu, routes, half), rerun

    def chunkup() -> tuple[Callable[[], None], Callable[[], None]]:
        state = target.work / "task-state.json"
        state.unlink(missing_ok=True)
        argv = chunkup_command(target.hook, path, **target.chunkup_kwargs(chunk))
        env = {**target.chunkup_env(True), CHECKPOINT_ENV: str(state)}

        def rerun() -> None:
            assert run_json(argv, env)["sha256"] == expected, "chunkup read the file wrong"
        return lambda: kill_at(argv, env, emu, routes, half), rerun

    rows = []
    for method, (kill, rerun) in (("curl", curl()), (target.peer, peer()), ("chunkup", chunkup())):
        target.fresh()
        row = resume_row(method, size, kill, rerun, emu, routes, lambda: target.uploads(expected))
        assert row["media_completed"] >= 1, f"{target.name} {method}: {row}"  # 2 if a kill came too late
        rows.append({"target": target.name, "chunk_mib": mib(chunk), **row})
    path.unlink()
    for leftover in target.work.glob("parts-*"):
        shutil.rmtree(leftover)
    return rows


def idle(target: Target, work: Path) -> dict[str, float]:
    """Peak RSS of each method's program doing nothing much (imports only; curl --version)."""
    peer = [str(PEERS_PYTHON), str(TUSPY if target.name == "tus" else PYVIMEO), "--idle"]
    return {"curl": round(measured("curl", "--version").peak_rss_mib, 1),
            target.peer: round(float(run_json(peer)["peak_rss_mib"]), 1),
            "chunkup": round(idle_rss(target.hook, target.chunkup_env(True)), 1)}


def peer_versions() -> dict[str, str]:
    code = ("import importlib.metadata as m; print(' '.join(m.version(p) for p in "
            "('tuspy', 'pyvimeo', 'requests')))")
    tuspy, pyvimeo, requests = subprocess.run([str(PEERS_PYTHON), "-c", code], capture_output=True, text=True,
                                              check=True).stdout.split()
    return {"tuspy": tuspy, "pyvimeo": pyvimeo, "requests": requests}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="128 MiB (resume: 64), one repeat: to check the script")
    parser.add_argument("--size-mib", type=int)
    parser.add_argument("--chunks-mib", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--resume-mib", type=int)
    parser.add_argument("--latency-ms", type=int, nargs="*", default=[100],
                        help="tus server: also with each request held this long (none: skip)")
    parser.add_argument("--no-vimeo", action="store_true", help="the generic tus server only")
    parser.add_argument("--output", type=Path, help="default: bench/results/tus_upload.json (--quick: a temp file)")
    args = parser.parse_args()
    size = (args.size_mib or (128 if args.quick else 256)) * MiB
    resume_size = (args.resume_mib or (64 if args.quick else 256)) * MiB
    repeats = args.repeats or (1 if args.quick else 5)  # 5: the loopback runs are short, so noisier
    chunks = [c * MiB for c in args.chunks_mib]
    output = args.output or (Path(tempfile.gettempdir()) / "tus_upload_quick.json" if args.quick
                             else HERE / "results" / "tus_upload.json")
    require_curl()
    require_peers()
    rows, resumed, idle_rss_mib, skipped = [], [], {}, []
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-tus-"))
    try:
        with emulator({}) as emu:
            targets: list[Target] = [GenericTus(emu, work)]
            if args.no_vimeo:
                skipped.append("vimeo: --no-vimeo")
            elif has_vimeo(emu):
                targets.append(Vimeo(emu, work))
            else:
                skipped.append("vimeo: this checkout has no Vimeo front door in the emulator or no Vimeo hook")
            for target in targets:
                idle_rss_mib[target.name] = idle(target, work)
                print(f"{target.name} on {emu.url}: idle RSS {idle_rss_mib[target.name]}", flush=True)
                rows += timed(target, chunks, size, repeats)
                if isinstance(target, GenericTus):
                    for latency in args.latency_ms:
                        print(f"{target.name}: {latency} ms per request", flush=True)
                        rows += with_latency(target, chunks[0], size, repeats, latency)
                print(f"{target.name}: resume after a kill half-way through {mib(resume_size):g} MiB", flush=True)
                resumed += resume(target, resume_size, chunks[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write(output, rows, resumed, idle_rss_mib, {
        "size_mib": mib(size), "chunks_mib": [mib(c) for c in chunks], "repeats": repeats,
        "latency_ms": args.latency_ms, "parts_in_flight": PARTS_IN_FLIGHT,
        "resume_size_mib": mib(resume_size), "resume_chunk_mib": mib(chunks[0]), "skipped": skipped,
        "notes": [
            "One PATCH at a time for every method (chunkup: max_in_flight=1), each chunk its own request; with "
            f"latency, also chunkup's parallel parts: a connection asking {PARTS_IN_FLIGHT} in flight, each chunk a "
            "partial upload (creation, checksummed PATCH), one final upload joining them (concatenation).",
            "latency_ms: the emulator holds every request to the tus server that long before answering (its delay "
            "fault), OPTIONS, creation, HEAD and PATCH alike, at the first chunk size.",
            "curl: the parts are cut with split before the runs (not timed); its time is the creation's curl plus "
            "the PATCHes' curl; peak RSS the larger of the two (through a wrapper whose only child it is).",
            "chunkup: a sha1 Upload-Checksum per PATCH where the server announces it (the emulator does; it "
            "verifies each) and the file's sha256; chunkup nosum: neither, the work the peers do.",
            "Peak RSS of the Python children is VmHWM (ru_maxrss starts at the spawning parent's RSS); chunkup's "
            "includes Airflow's SDK, which a worker has loaded anyway.",
            "resume: PATCH body bytes as the emulator read them, including the part of a PATCH the kill cut "
            "(which the tus server keeps); remote uploads created / completed byte-exact.",
            "The emulator, the client and curl share the machine's cores: on loopback client CPU is wall time.",
        ],
    })
    return 0


def write(output: Path, rows: list[dict[str, Any]], resumed: list[dict[str, Any]],
          idle_rss_mib: dict[str, dict[str, float]], settings: dict[str, Any]) -> None:
    """Print the tables and write the JSON."""
    print(f"\n{'target':<6} {'latency':>7} {'chunk':>7} {'method':<16} {'median s':>9} {'MiB/s':>7} {'x curl':>7} "
          f"{'CPU s':>6} {'peak RSS':>9} {'over idle':>10}")
    for r in rows:
        base = idle_rss_mib[r["target"]].get(r["method"].split(" ")[0], 0.0)
        r["peak_rss_over_idle_mib"] = round(r["peak_rss_mib"] - base, 1) if r["peak_rss_mib"] else None
        print(f"{r['target']:<6} {r['latency_ms']:>4} ms {r['chunk_mib']:>3g} MiB {r['method']:<16} "
              f"{r['median_seconds']:>9.2f} "
              f"{r['mib_per_second']:>7.1f} {r['time_vs_curl']:>7.2f} {r['client_cpu_seconds']:>6.2f} "
              f"{r['peak_rss_mib']:>5.0f} MiB {r['peak_rss_over_idle_mib']:>6.0f} MiB")
    print(f"\n{'target':<6} {'method':<10} {'killed after':>13} {'sent again':>11} {'created':>8} {'completed':>9}")
    for r in resumed:
        print(f"{r['target']:<6} {r['method']:<10} {r['killed_after_mib']:>9.1f} MiB {r['bytes_sent_again_mib']:>7.2f} "
              f"MiB {r['remote_uploads_created']:>8} {r['media_completed']:>9}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "tus_upload", "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
        "versions": {**versions(api_video=False), **peer_versions()}, **settings,
        "idle_rss_mib": idle_rss_mib, "results": rows, "resume": resumed,
    }, indent=2) + "\n")
    print(f"\nwritten to {output}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
