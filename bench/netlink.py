"""A network link emulated in userspace between two network namespaces: delay, bandwidth, queue and loss.

    .venv/bin/python bench/netlink.py ceiling [--seconds 5]       # what the forwarder itself sustains
    .venv/bin/python bench/netlink.py shell --profile wan          # a link to try things on (Ctrl-C ends it)

This kernel has no ``netem`` qdisc, so the link is a Python process. :class:`Link` creates two network
namespaces (``chunkup-c<pid>``, the client; ``chunkup-s<pid>``, the server) and starts the forwarder
(``netlink.py forward``, a child process in the root namespace), which opens one TUN device per
namespace, moves each into its namespace (``10.203.0.1`` in the client's, ``10.203.0.2`` in the server's,
point to point) and copies IP packets from one TUN to the other. Each direction is a separate link:

- **loss**: each packet is dropped with probability ``loss`` (a ``random.Random(seed)`` per direction),
  before it queues, as netem does;
- **bandwidth** (serialization): a packet leaves ``len * 8 / rate`` seconds after the previous one left,
  or after it arrived if the link was idle;
- **queue**: a packet that would wait longer than ``queue_ms`` for the link is dropped (tail drop; by
  default one round trip of queueing, i.e. a buffer of one bandwidth-delay product);
- **delay**: a packet is written to the other TUN ``rtt / 2`` after it left the link.

The TUN MTU is 9000 (jumbo frames: 200 Mbit/s is ~2800 packets/s, which Python keeps up with), and both
namespaces use ``cubic`` congestion control (Linux's default; the root namespace here has ``bbr``, which
ignores random loss; set on the route, ``congctl lock cubic``), keep no TCP metrics between
connections (``tcp_no_metrics_save``: each run starts from a cold cache) and allow socket buffers of
at least 4 bandwidth-delay products (6 MiB at least). Traffic never leaves the machine: the namespaces
have no other interface. Everything is removed when the context exits, on error or on SIGTERM (the
forwarder's TUNs vanish with its file descriptors, the namespaces are deleted).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import random
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

CLIENT_IP = "10.203.0.1"
SERVER_IP = "10.203.0.2"
MTU = 9000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


@dataclass(frozen=True)
class Profile:
    """One link: round trip, rate each way (``None``: no cap), loss per packet each way, queue in ms."""

    name: str
    rtt_ms: float
    rate_mbit: float | None
    loss: float
    queue_ms: float | None = None
    """Longest wait for the link before a tail drop; ``None``: one round trip (a BDP of buffer)."""
    congestion_control: str = "cubic"
    seed: int = 1

    @property
    def queue_limit_ms(self) -> float:
        return self.queue_ms if self.queue_ms is not None else max(self.rtt_ms, 5.0)

    @property
    def bdp_bytes(self) -> int:
        return int((self.rate_mbit or 10_000) * 1e6 / 8 * self.rtt_ms / 1000)


PROFILES = {
    "wan": Profile("wan", rtt_ms=50, rate_mbit=200, loss=0.001),
    "mobile": Profile("mobile", rtt_ms=100, rate_mbit=20, loss=0.01),
}
UNSHAPED = Profile("unshaped", rtt_ms=0, rate_mbit=None, loss=0.0, queue_ms=10_000)


def ip(*args: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = ["ip", *(["-n", ns] if ns else []), *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done


# -- the forwarder (a child process) ------------------------------------------------------------------


@dataclass
class Direction:
    """One way of the link: its queue of (delivery time, packet) and its counters."""

    out: int
    rate_bps: float | None
    delay: float
    queue_limit: float
    loss: float
    rng: random.Random
    free_at: float = 0.0
    queue: deque[tuple[float, bytes]] = field(default_factory=deque)
    stats: dict[str, float] = field(default_factory=lambda: {
        "packets": 0, "bytes": 0, "lost": 0, "tail_dropped": 0, "delivered": 0, "write_errors": 0,
        "max_backlog_ms": 0.0})

    def arrive(self, packet: bytes, now: float) -> None:
        stats = self.stats
        stats["packets"] += 1
        stats["bytes"] += len(packet)
        if self.loss and self.rng.random() < self.loss:
            stats["lost"] += 1
            return
        if self.rate_bps:
            backlog = self.free_at - now
            if backlog > self.queue_limit:
                stats["tail_dropped"] += 1
                return
            if backlog > stats["max_backlog_ms"] / 1000:
                stats["max_backlog_ms"] = backlog * 1000
            self.free_at = max(now, self.free_at) + len(packet) * 8 / self.rate_bps
            self.queue.append((self.free_at + self.delay, packet))
        else:
            self.queue.append((now + self.delay, packet))

    def deliver(self, now: float) -> None:
        queue = self.queue
        while queue and queue[0][0] <= now:
            try:
                os.write(self.out, queue.popleft()[1])
                self.stats["delivered"] += 1
            except OSError:
                self.stats["write_errors"] += 1


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def forward(profile: Profile, client_ns: str, server_ns: str, stats_file: Path) -> None:
    """Create the TUNs, say ``ready`` on stdout, forward until SIGTERM, then write the counters."""
    suffix = client_ns.rsplit("-", 1)[-1].lstrip("c")
    fds = {}
    for ns, tun, address, peer in ((client_ns, f"cktc{suffix}", CLIENT_IP, SERVER_IP),
                                   (server_ns, f"ckts{suffix}", SERVER_IP, CLIENT_IP)):
        fds[ns] = open_tun(tun)
        ip("link", "set", "dev", tun, "netns", ns)
        ip("addr", "add", address, "peer", f"{peer}/32", "dev", tun, ns=ns)
        ip("link", "set", "dev", tun, "mtu", str(MTU), "txqueuelen", "1000", "up", ns=ns)
        # Per route: the root namespace allows only reno and bbr to be set as a namespace's default.
        ip("route", "replace", f"{peer}/32", "dev", tun, "src", address, "congctl", "lock",
           profile.congestion_control, ns=ns)
    rate = profile.rate_mbit * 1e6 if profile.rate_mbit else None
    one_way = profile.rtt_ms / 2000
    limit = profile.queue_limit_ms / 1000
    up = Direction(fds[server_ns], rate, one_way, limit, profile.loss, random.Random(profile.seed))
    down = Direction(fds[client_ns], rate, one_way, limit, profile.loss, random.Random(profile.seed + 1))
    by_fd = {fds[client_ns]: up, fds[server_ns]: down}
    running = True

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    poller = select.epoll()
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    print("ready", flush=True)
    clock = time.monotonic
    directions = (up, down)
    started = clock()
    while running:
        now = clock()
        due = None
        for d in directions:
            d.deliver(now)
            if d.queue and (due is None or d.queue[0][0] < due):
                due = d.queue[0][0]
        try:
            events = poller.poll(1.0 if due is None else max(due - now, 0.0))
        except InterruptedError:
            continue
        now = clock()
        for fd, _ in events:
            d = by_fd[fd]
            for _ in range(256):
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                d.arrive(packet, now)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stats_file.write_text(json.dumps({
        "seconds": clock() - started, "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "client_to_server": up.stats, "server_to_client": down.stats}))
    for fd in by_fd:
        os.close(fd)


# -- the link, for benches -----------------------------------------------------------------------------


@dataclass
class Link:
    """A live link: the namespaces' names and addresses, and how to run a command in either."""

    profile: Profile
    client_ns: str
    server_ns: str
    client_ip: str = CLIENT_IP
    server_ip: str = SERVER_IP
    stats: dict[str, Any] = field(default_factory=dict)
    """The forwarder's counters, once the link is down."""

    def client(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.client_ns, *argv]

    def server(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.server_ns, *argv]


def setup_namespace(ns: str, profile: Profile) -> None:
    ip("netns", "add", ns)
    ip("link", "set", "lo", "up", ns=ns)
    buffers = max(4 * profile.bdp_bytes, 6 << 20)
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                    "net.ipv4.tcp_no_metrics_save=1",
                    f"net.ipv4.tcp_wmem=4096 16384 {buffers}", f"net.ipv4.tcp_rmem=4096 131072 {buffers}"],
                   check=True, capture_output=True)


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def link(profile: Profile) -> Iterator[Link]:
    """Two namespaces joined by the forwarder; all of it removed on exit (error and SIGTERM included)."""
    pid = os.getpid()
    made = Link(profile, f"chunkup-c{pid}", f"chunkup-s{pid}")
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: the caller handles its signals
        previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    stats_file = Path(tempfile.mkstemp(prefix="netlink-stats-", suffix=".json")[1])
    proc: subprocess.Popen[str] | None = None
    namespaces: list[str] = []
    try:
        for ns in (made.client_ns, made.server_ns):
            namespaces.append(ns)
            setup_namespace(ns, profile)
        proc = subprocess.Popen([sys.executable, __file__, "forward", "--client-ns", made.client_ns,
                                 "--server-ns", made.server_ns, "--profile-json", json.dumps(asdict(profile)),
                                 "--stats", str(stats_file)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the forwarder did not start")
        yield made
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            with contextlib.suppress(ValueError):
                made.stats = json.loads(stats_file.read_text())
        stats_file.unlink(missing_ok=True)
        for ns in namespaces:
            # Whatever still runs in it (a server left behind) would keep the namespace alive: kill it first.
            pids = ip("netns", "pids", ns, check=False).stdout.split()
            for p in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(p), signal.SIGKILL)
            ip("netns", "del", ns, check=False)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


# -- the forwarder's own ceiling -------------------------------------------------------------------------

SINK = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8); print("listening", flush=True)
total, buf, conns = 0, bytearray(1 << 20), []
c, _ = s.accept()
started = None
while True:
    n = c.recv_into(buf)
    if not n:
        break
    if started is None:
        started = time.perf_counter()
    total += n
print(total, time.perf_counter() - started, flush=True)
"""

SOURCE = """
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
chunk, end = bytes(1 << 20), time.perf_counter() + float(sys.argv[3])
while time.perf_counter() < end:
    c.sendall(chunk)
c.close()
"""


def throughput(made: Link, seconds: float, port: int = 5201) -> float:
    """Mbit/s one TCP connection gets from the client namespace to the server's over ``made``."""
    sink = subprocess.Popen(made.server(sys.executable, "-c", SINK, made.server_ip, str(port)),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None
        sink.stdout.readline()
        subprocess.run(made.client(sys.executable, "-c", SOURCE, made.server_ip, str(port), str(seconds)),
                       check=True)
        total, took = sink.stdout.readline().split()
        sink.wait(10)
    finally:
        if sink.poll() is None:
            sink.kill()
            sink.wait()
    return int(total) * 8 / float(took) / 1e6


def ceiling(seconds: float = 5.0) -> dict[str, Any]:
    """The forwarder with no delay, loss or rate cap: the most one TCP connection gets through it."""
    with link(UNSHAPED) as made:
        mbit = throughput(made, seconds)
    up = made.stats.get("client_to_server", {})
    return {"mbit_per_s": round(mbit, 1), "seconds": seconds, "mtu": MTU,
            "packets_per_s": round(up.get("packets", 0) / made.stats.get("seconds", 1), 0),
            "forwarder_cpu_share": round(made.stats.get("cpu_seconds", 0) / made.stats.get("seconds", 1), 2),
            "note": "one TCP connection (Python sender and sink) through the forwarder with no delay, loss or cap"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fwd = sub.add_parser("forward", help="(internal) the forwarder process")
    fwd.add_argument("--client-ns", required=True)
    fwd.add_argument("--server-ns", required=True)
    fwd.add_argument("--profile-json", required=True)
    fwd.add_argument("--stats", type=Path, required=True)
    ceil = sub.add_parser("ceiling", help="measure the forwarder's own ceiling")
    ceil.add_argument("--seconds", type=float, default=5.0)
    test = sub.add_parser("measure", help="one TCP connection's throughput over a profile")
    test.add_argument("--profile", choices=PROFILES, default="wan")
    test.add_argument("--seconds", type=float, default=10.0)
    test.add_argument("--cc", help="congestion control (default: the profile's)")
    shell = sub.add_parser("shell", help="bring a profile's link up and wait (Ctrl-C ends it)")
    shell.add_argument("--profile", choices=PROFILES, default="wan")
    args = parser.parse_args()
    if args.command == "forward":
        forward(Profile(**json.loads(args.profile_json)), args.client_ns, args.server_ns, args.stats)
    elif args.command == "ceiling":
        print(json.dumps(ceiling(args.seconds), indent=2))
    elif args.command == "measure":
        profile = PROFILES[args.profile]
        if args.cc:
            profile = replace(profile, congestion_control=args.cc)
        with link(profile) as made:
            mbit = throughput(made, args.seconds)
        print(json.dumps({"profile": asdict(profile), "mbit_per_s": round(mbit, 1), "forwarder": made.stats},
                         indent=2))
    else:
        with link(PROFILES[args.profile]) as made:
            print(f"client: {' '.join(made.client('bash'))}\nserver: {' '.join(made.server('bash'))}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
