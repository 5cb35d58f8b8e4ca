"""Uploads over a real-shaped network: throughput as a fraction of the link, chunkup against the peers.

    .venv/bin/python bench/wan_upload.py [--quick] [--profiles wan transatlantic] [--size-mib 256] [--repeats 3]

The link (``bench/netlink.py``): two network namespaces joined by a userspace forwarder (this kernel
has no ``netem``), which gives each direction a one-way delay of RTT/2, a rate cap (a packet leaves
the link no earlier than the previous one finished serializing), a tail-drop queue of one round trip
of link time (a bandwidth-delay product of buffer) and random loss per packet (seeded). TUN MTU 9000,
``cubic`` congestion control on both ends, no TCP metrics cached between connections. Profiles:

- ``wan``: 50 ms RTT, 200 Mbit/s, 0.1% loss (issue 17's);
- ``transatlantic``: 80 ms RTT, 1 Gbit/s, 0.01% loss: a fat long pipe, where one TCP connection's
  window growth (and, on this 2-core machine, the endpoints' CPU) limits more than the link.

The forwarder's own ceiling (no delay, loss or cap; one TCP connection) is measured first and written
with the results, as is one bare TCP connection's throughput over each profile (``netlink.throughput``),
so the link, not the forwarder, is known to be the bottleneck.

The emulator (``chunkup-emulator``) runs in the server namespace, every client in the client
namespace (``ip netns exec``), all uploading the same file; each upload is checked byte-exact through
the emulator's control endpoints. Methods, as in ``x_upload.py`` and ``apivideo_upload.py``:

- X (v1.1 over HTTPS, 4 MiB segments; tweepy speaks nothing else): ``curl`` (``peers/x_curl_upload.sh``:
  INIT, every APPEND over one kept-alive connection, FINALIZE), ``tweepy`` (``peers/tweepy_upload.py``),
  ``chunkup x1`` / ``chunkup x3`` (``XMediaUploadHook.upload`` with 1 / 3 segments in flight);
- api.video (plain http, 16 MiB parts): ``curl`` (``POST /videos``, then the parts in order over one
  connection, ``curl -K``), ``official client`` (api.video 1.4.7, ``peers/apivideo_client.py``),
  ``chunkup x1`` / ``chunkup x4`` (``ApiVideoHook.upload`` with 1 / 4 parts in flight).

Time is what each method reports for its upload (chunkup, tweepy, the official client: from the call to
its return, the interpreter's start and imports excluded) or the whole process (curl). Throughput is
file size / time, in Mbit/s and as a fraction of the link's rate. ``--repeats`` interleaved runs, medians.
Everything goes to ``bench/results/wan_upload.json`` (``--quick``: one 32 MiB run of ``wan`` to a temp file).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import ipaddress
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import netlink
from apivideo_upload import HOOK as APIVIDEO_HOOK
from apivideo_upload import KEY, UNLIMITED, Bench
from common import HERE, PYTHON, Emulator, chunkup_command, measure, require_curl
from netlink import Link, Profile
from peers.apivideo_harness import machine, measured, require_peers, run_json
from peers.apivideo_harness import versions as harness_versions
from x_upload import XMethods
from x_upload import versions as x_versions

MiB = 1024 * 1024
PROFILES = {**netlink.PROFILES,
            "transatlantic": Profile("transatlantic", rtt_ms=80, rate_mbit=1000, loss=0.0001)}
X_METHODS = ("curl", "tweepy", "chunkup x1", "chunkup x3")
APIVIDEO_METHODS = ("curl", "official client", "chunkup x1", "chunkup x4")
Method = Callable[[Path, int, str], dict[str, Any]]


@dataclass
class NsEmulator(Emulator):
    """The emulator in the server namespace: its control endpoints are asked from there (curl)."""

    link: Link | None = None

    def get(self, path: str) -> Any:
        assert self.link is not None
        tls = ["--cacert", str(self.ca)] if self.ca else []
        done = subprocess.run(self.link.server("curl", "-sS", "--fail-with-body", *tls, f"{self.url}{path}"),
                              capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    def patch(self, path: str, body: Mapping[str, Any]) -> None:
        assert self.link is not None
        tls = ["--cacert", str(self.ca)] if self.ca else []
        subprocess.run(self.link.server("curl", "-sS", "--fail-with-body", *tls, "-X", "PATCH", "-H",
                                        "Content-Type: application/json", "-d", json.dumps(body), f"{self.url}{path}"),
                       capture_output=True, text=True, check=True)


def certificate(folder: Path, address: str) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for ``address`` (``common.self_signed_cert`` is for 127.0.0.1)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextlib.contextmanager
def ns_emulator(link: Link, config: Mapping[str, Any], *args: str, tls: bool = False) -> Iterator[NsEmulator]:
    """``chunkup-emulator`` in the server namespace on the link's address, patched, stopped at exit."""
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-wan-emu-"))
    port_file = work / "port"
    ca = None
    if tls:
        ca, key = certificate(work, link.server_ip)
        args = (*args, "--tls-cert", str(ca), "--tls-key", str(key))
    proc = subprocess.Popen(link.server(str(Path(PYTHON).with_name("chunkup-emulator")), "--host", link.server_ip,
                                        "--allow-remote", "--port", "0", "--port-file", str(port_file),
                                        "--data-dir", str(work / "emulator"), *args),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("emulator did not start")
        url = f"{'https' if tls else 'http'}://{link.server_ip}:{port_file.read_text().strip()}"
        emu = NsEmulator(url, work, ca, proc.pid, link=link)
        emu.patch("/_emulator/config", config)
        yield emu
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


class WanX(XMethods):
    """``x_upload``'s methods, each started in the client namespace."""

    def __init__(self, emu: Emulator, work: Path, link: Link) -> None:
        super().__init__(emu, work)
        self.link = link

    def command(self, method: str, path: Path, size: int,
                state: Path | None = None) -> tuple[list[str], dict[str, str]]:
        cmd, env = super().command(method, path, size, state)
        return self.link.client(*cmd), env


class WanApiVideo(Bench):
    """``apivideo_upload``'s methods, each started in the client namespace."""

    def __init__(self, emu: Emulator, chunk: int, work: Path, link: Link) -> None:
        super().__init__(emu, chunk, work)
        self.link = link
        conn = json.loads(self.env["AIRFLOW_CONN_CHUNKUP_APIVIDEO_DEFAULT"])
        conn["extra"]["allow_insecure_http"] = True  # plain http off loopback: the hook asks to be told
        self.env = {"AIRFLOW_CONN_CHUNKUP_APIVIDEO_DEFAULT": json.dumps(conn)}

    def chunkup(self, in_flight: int, checksum: bool = True) -> Method:
        def run(path: Path, size: int, expected: str) -> dict[str, Any]:
            out = run_json(self.link.client(*chunkup_command(APIVIDEO_HOOK, path,
                                                             **self.chunkup_kwargs(in_flight, checksum))), self.env)
            assert out["sha256"] == expected, "chunkup read the file wrong"
            return out
        return run

    def official_client(self, path: Path, size: int, expected: str) -> dict[str, Any]:
        return run_json(self.link.client(*self.client_argv(path)))

    def curl(self, path: Path, size: int, expected: str) -> dict[str, Any]:
        self.parts(path)  # cut outside the timing
        create = measured(*self.link.client("curl", "-sS", "--fail-with-body", "-u", f"{KEY}:", "-H",
                                            "Content-Type: application/json", "-d", json.dumps({"title": "bench"}),
                                            f"{self.emu.url}/videos"))
        video_id = json.loads(create.stdout)["videoId"]
        upload = measured(*self.link.client(*self.curl_upload_argv(path, video_id)))
        return {"seconds": create.seconds + upload.seconds, "cpu_seconds": create.cpu_seconds + upload.cpu_seconds,
                "peak_rss_mib": max(create.peak_rss_mib, upload.peak_rss_mib), "media_id": video_id}


def with_link_share(rows: list[dict[str, Any]], profile: Profile, api: str) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        mbit = row["size_mib"] * MiB * 8 / row["median_seconds"] / 1e6
        share = mbit / profile.rate_mbit if profile.rate_mbit else None
        out.append({"profile": profile.name, "api": api, **row, "mbit_per_s": round(mbit, 1),
                    "fraction_of_link": round(share, 3) if share is not None else None})
    return out


def run_profile(profile: Profile, size: int, repeats: int, part: int, probe_seconds: float,
                wide: int | None = None) -> dict[str, Any]:
    """Every method over one link: rows, one bare TCP connection's throughput, the forwarder's counters."""
    rows: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="chunkup-bench-wan-"))
    try:
        with netlink.link(profile) as link:
            tcp = netlink.throughput(link, probe_seconds)
            print(f"{profile.name}: one bare TCP connection over {probe_seconds:g} s: {tcp:.1f} Mbit/s", flush=True)
            with ns_emulator(link, {"x": {"rate_limit": 10**9}}, "--no-size-limits", "--x-processing-seconds", "0",
                             tls=True) as emu:
                x = WanX(emu, work, link)
                names = X_METHODS + ((f"chunkup x{wide}",) if wide else ())
                methods: dict[str, Method] = {m: x.runner(m) for m in names}
                got = measure(methods, [size], repeats, emu, x.received, "curl", work)
                rows += with_link_share(got, profile, "X v1.1 (https)")
                show(rows[-len(got):])
            with ns_emulator(link, UNLIMITED) as emu:
                api = WanApiVideo(emu, part, work, link)
                methods = {"curl": api.curl, "official client": api.official_client,
                           "chunkup x1": api.chunkup(1), "chunkup x4": api.chunkup(4)}
                if wide:
                    methods[f"chunkup x{wide}"] = api.chunkup(wide)
                got = measure(methods, [size], repeats, emu, api.received, "curl", work)
                rows += with_link_share(got, profile, "api.video (http)")
                show(rows[-len(got):])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"profile": asdict(profile), "one_tcp_connection_mbit_per_s": round(tcp, 1),
            "probe_seconds": probe_seconds, "forwarder": link.stats, "results": rows}


def show(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        share = f"{r['fraction_of_link']:.0%}" if r["fraction_of_link"] is not None else "-"
        print(f"  {r['profile']:<14} {r['api']:<18} {r['method']:<16} {r['median_seconds']:>8.2f} s "
              f"{r['mbit_per_s']:>7.1f} Mbit/s {share:>5} of link  runs {r['runs']}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="wan only, 32 MiB, one run, to a temp file")
    parser.add_argument("--profiles", nargs="+", choices=PROFILES, default=["wan", "transatlantic"])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--part-mib", type=int, default=16, help="api.video part size")
    parser.add_argument("--wide", type=int, help="also chunkup with this many requests in flight, for both APIs")
    parser.add_argument("--output", type=Path, help="default: bench/results/wan_upload.json (--quick: a temp file)")
    args = parser.parse_args()
    probe, ceiling_seconds = 8.0, 5.0
    if args.quick:
        args.profiles, args.size_mib, args.repeats, probe, ceiling_seconds = ["wan"], 32, 1, 2.0, 2.0
    if args.output is None:  # a quick check never overwrites the real results
        args.output = (Path(tempfile.gettempdir()) / "wan_upload_quick.json" if args.quick
                       else HERE / "results" / "wan_upload.json")
    require_curl()
    require_peers()
    ceiling = netlink.ceiling(ceiling_seconds)
    print(f"forwarder ceiling (no delay, loss or cap): {ceiling['mbit_per_s']:.0f} Mbit/s, "
          f"{ceiling['packets_per_s']:.0f} packets/s", flush=True)
    profiles = []
    for name in args.profiles:
        profile = PROFILES[name]
        if profile.rate_mbit and ceiling["mbit_per_s"] < 1.5 * profile.rate_mbit:
            print(f"warning: the forwarder's ceiling is close to {name}'s rate", flush=True)
        profiles.append(run_profile(profile, args.size_mib * MiB, args.repeats, args.part_mib * MiB, probe, args.wide))
    rows = [r for p in profiles for r in p["results"]]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "wan_upload", "date": time.strftime("%Y-%m-%d"), "machine": machine(),
        "versions": {**x_versions(), **harness_versions(api_video=True)},
        "size_mib": args.size_mib, "repeats": args.repeats, "x_segment_bytes": 4 * MiB,
        "apivideo_part_bytes": args.part_mib * MiB, "forwarder_ceiling": ceiling,
        "link": {"mtu": netlink.MTU, "model": "userspace forwarder between two network namespaces (bench/netlink.py): "
                 "loss, then tail-drop queue of queue_ms, serialization at rate, then RTT/2 delay, each direction"},
        "profiles": [{k: v for k, v in p.items() if k != "results"} for p in profiles],
        "notes": [
            "Time: chunkup, tweepy and the official client report their upload call (interpreter start and "
            "imports excluded); curl's is the whole process (X: the script, INIT to FINALIZE; api.video: "
            "POST /videos plus the parts).",
            "X: v1.1 over HTTPS for every method (tweepy speaks nothing else); curl with an OAuth 2.0 bearer.",
            "The emulator and every client share this machine's 2 cores with the forwarder.",
        ],
        "results": rows,
    }, indent=2) + "\n")
    print(f"\n{'profile':<14} {'api':<18} {'method':<16} {'median s':>9} {'Mbit/s':>8} {'of link':>8}")
    for r in rows:
        share = f"{r['fraction_of_link']:.0%}" if r["fraction_of_link"] is not None else "-"
        print(f"{r['profile']:<14} {r['api']:<18} {r['method']:<16} {r['median_seconds']:>9.2f} "
              f"{r['mbit_per_s']:>8.1f} {share:>8}")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
