"""EmulatorServer lifecycle, and the app's building blocks in isolation."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from self_signed import self_signed_cert

from airflow_provider_chunkup.emulators import EmulatorConfig, EmulatorServer, XEmulatorConfig
from airflow_provider_chunkup.emulators.core.assembly import BackgroundAssembly
from airflow_provider_chunkup.emulators.core.config import ConfigPatchError, apply_config_patch
from airflow_provider_chunkup.emulators.core.ratelimit import RateLimiter
from airflow_provider_chunkup.emulators.core.sniff import image_size
from airflow_provider_chunkup.emulators.core.storage import Storage
from airflow_provider_chunkup.emulators.x.endpoint import rate_limit_headers

from .support import BEARER, sha256


def test_start_serves_and_stop_cleans_up():
    server = EmulatorServer()
    server.start()
    try:
        assert server.url == f"http://127.0.0.1:{server.config.port}"
        assert server.config.port > 0
        data_dir = Path(server.config.data_dir)
        assert data_dir.is_dir()
        assert httpx.get(f"{server.url}/_emulator/health").json() == {"ok": True}
        assert server.start() is server  # already running: no second server
    finally:
        server.stop()
    assert not server.running
    assert not data_dir.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/_emulator/health", timeout=1)
    server.stop()  # idempotent


def test_given_data_dir_is_kept(tmp_path):
    with EmulatorServer(data_dir=tmp_path / "store") as server:
        headers = BEARER
        media_id = httpx.post(
            f"{server.url}/2/media/upload/initialize",
            json={"media_type": "image/png", "total_bytes": 3},
            headers=headers,
        ).json()["data"]["id"]
        httpx.post(
            f"{server.url}/2/media/upload/{media_id}/append",
            data={"segment_index": "0"},
            files={"media": ("b", b"abc")},
            headers=headers,
        )
        httpx.post(f"{server.url}/2/media/upload/{media_id}/finalize", headers=headers)
    assert (tmp_path / "store" / "x" / f"{media_id}.bin").read_bytes() == b"abc"


def test_explicit_port_and_config_object():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = EmulatorConfig(x=XEmulatorConfig(bearer_tokens={"t"}))
    with EmulatorServer(config, port=port) as server:
        assert server.config is config and server.url.endswith(f":{port}")
        ok = httpx.post(
            f"{server.url}/2/media/upload/initialize",
            json={"media_type": "video/mp4", "total_bytes": 1},
            headers={"Authorization": "Bearer t"},
        )
        assert ok.status_code == 200


def test_port_in_use_raises():
    with EmulatorServer() as first, pytest.raises(OSError):
        EmulatorServer(port=first.config.port).start()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_refuses_non_loopback_hosts(host):
    with pytest.raises(ValueError, match="allow_remote"):
        EmulatorServer(host=host)
    EmulatorServer(host=host, allow_remote=True)  # allowed, not started


def test_ipv6_loopback():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = EmulatorServer(host="::1").start()
    except OSError:
        pytest.skip("::1 not available")
    with server:
        assert server.url.startswith("http://[::1]:")
        assert httpx.get(f"{server.url}/_emulator/health").status_code == 200


def test_live_config_mutation(emulator, client):
    emulator.config.x.max_segment_bytes = 2
    media_id = client.post("/2/media/upload/initialize", json={"media_type": "video/mp4", "total_bytes": 3}).json()[
        "data"
    ]["id"]
    response = client.post(
        f"/2/media/upload/{media_id}/append", data={"segment_index": "0"}, files={"media": ("b", b"abc")}
    )
    assert response.status_code == 400


# -- building blocks ------------------------------------------------------------------------------


def test_storage_assembles_with_sha256(tmp_path):
    storage = Storage(tmp_path)
    parts = [b"first-", b"second-", b"third"]
    for index, part in reversed(list(enumerate(parts))):
        spool = storage.spool(limit=100)
        spool.write(part)
        storage.commit_segment(spool, "api", "42", index)
    assembled = storage.assemble("api", "42", range(3))
    assert assembled.size == len(b"".join(parts))
    assert assembled.sha256 == sha256(b"".join(parts))
    assert assembled.path.read_bytes() == b"".join(parts)
    storage.discard_segments("api", "42")
    assert not storage.segments_dir("api", "42").exists()
    assert list(storage.tmp_dir.iterdir()) == []


def test_spool_stops_writing_past_its_limit(tmp_path):
    spool = Storage(tmp_path).spool(limit=4)
    spool.write(b"abc")
    spool.write(b"de")
    assert spool.overflowed and spool.size == 5
    spool.discard()
    assert not spool.path.exists()


def test_rate_limiter_windows():
    limiter = RateLimiter()
    states = [limiter.take("b", 2, 10, now=100.0) for _ in range(3)]
    assert [s.allowed for s in states] == [True, True, False]
    assert [s.remaining for s in states] == [1, 0, 0]
    assert states[0].reset == 110
    assert limiter.peek("b", 2, 10, now=105.0).remaining == 0
    assert limiter.take("b", 3, 10, now=105.0).allowed  # a raised limit applies at once
    fresh = limiter.take("b", 2, 10, now=110.0)
    assert fresh.allowed and fresh.remaining == 1 and fresh.reset == 120
    assert rate_limit_headers(fresh.limit, fresh.remaining, fresh.reset) == {
        "x-rate-limit-limit": "2", "x-rate-limit-remaining": "1", "x-rate-limit-reset": "120"}  # X's names for them


def test_config_patch_is_atomic():
    config = EmulatorConfig()
    with pytest.raises(ConfigPatchError):
        apply_config_patch(config, {"x": {"rate_limit": 5, "processing_outcome": "bad"}})
    assert config.x.rate_limit == 1875
    x = config.x
    apply_config_patch(config, {"x": {"rate_limit": 5}})
    assert config.x is x and x.rate_limit == 5


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0" + b"\0" * 9
    sof0 = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, height, width) + b"\0" * 10
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


@pytest.mark.parametrize(
    ("head", "size"),
    [
        (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 640, 480), (640, 480)),
        (b"GIF89a" + struct.pack("<HH", 320, 200), (320, 200)),
        (_jpeg(1280, 720), (1280, 720)),
        (b"BM" + b"\0" * 16 + struct.pack("<ii", 10, -20), (10, 20)),
        (b"RIFF\0\0\0\0WEBPVP8X" + b"\0" * 8 + (99).to_bytes(3, "little") + (49).to_bytes(3, "little"), (100, 50)),
        (b"random bytes" * 3, None),
        (b"", None),
    ],
    ids=["png", "gif", "jpeg", "bmp", "webp", "unknown", "empty"],
)
def test_image_size(head, size):
    assert image_size(head) == size


def test_emulators_do_not_import_airflow():
    code = (
        "import sys, airflow_provider_chunkup.emulators.cli, airflow_provider_chunkup.emulators.app; "
        "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


async def _commit(storage: Storage, assembly, segments: dict[int, int], index: int, data: bytes) -> None:
    spool = storage.spool()
    spool.write(data)
    segments[index] = storage.commit_segment(spool, "api", "7", index)
    assembly.committed(index, segments)


async def test_background_assembly_follows_the_in_order_prefix(tmp_path):
    storage = Storage(tmp_path)
    assembly = BackgroundAssembly(storage, "api", "7")
    segments: dict[int, int] = {}
    for index in (1, 0, 3, 2):  # a gap at first, then filled
        await _commit(storage, assembly, segments, index, bytes([65 + index]) * 100)
    assembled = await assembly.result(4)
    assert assembled is not None and assembled.size == 400
    assert assembled.sha256 == sha256(b"A" * 100 + b"B" * 100 + b"C" * 100 + b"D" * 100)
    assert assembled.path.read_bytes()[:101] == b"A" * 100 + b"B"


async def test_background_assembly_gives_up_when_a_copied_segment_is_replaced(tmp_path):
    storage = Storage(tmp_path)
    assembly = BackgroundAssembly(storage, "api", "7")
    segments: dict[int, int] = {}
    await _commit(storage, assembly, segments, 0, b"old")
    await asyncio.sleep(0.05)  # let the copy of segment 0 happen
    await _commit(storage, assembly, segments, 0, b"new")
    assert await assembly.result(1) is None
    assert list(tmp_path.glob("api/*.inorder")) == []
    assert storage.assemble("api", "7", [0]).path.read_bytes() == b"new"


async def test_background_assembly_of_a_partial_upload_is_not_used(tmp_path):
    storage = Storage(tmp_path)
    assembly = BackgroundAssembly(storage, "api", "7")
    segments: dict[int, int] = {}
    await _commit(storage, assembly, segments, 0, b"only")
    assert await assembly.result(2) is None


def test_tls_serves_https_and_checks_oauth1_signatures_against_the_https_url(tmp_path):
    from .support import V11, OAuth1

    cert, key = self_signed_cert(tmp_path)
    with pytest.raises(ValueError, match="both"):
        EmulatorServer(tls_cert=cert)
    init = {"command": "INIT", "media_type": "video/mp4", "total_bytes": "4"}
    with EmulatorServer(tls_cert=cert, tls_key=key) as server:
        assert server.url == f"https://127.0.0.1:{server.config.port}"
        trusting = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=server.url, verify=trusting, auth=OAuth1()) as signed:
            assert signed.post(V11, data=init).status_code == 202  # signed for https://127.0.0.1:port/...
            # The same request signed for the http URL: the server sees https, so the signature fails.
            as_http = next(OAuth1().auth_flow(httpx.Request("POST", server.url.replace("https", "http") + V11,
                                                            data=init)))
            wrong = signed.post(V11, data=init, auth=None, headers={"Authorization": as_http.headers["Authorization"]})
            assert wrong.status_code == 401
        server.reset()  # the control client talks https to it too
        with pytest.raises(httpx.ConnectError):  # a client that does not trust the certificate is refused
            httpx.get(f"{server.url}/_emulator/health")
