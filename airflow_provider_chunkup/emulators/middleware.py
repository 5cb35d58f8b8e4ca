"""ASGI middleware around the emulated APIs: request stats, body draining, fault injection.

Draining matters for clients: when a handler answers early (401, 404, a too-large segment) the
rest of a multi-megabyte body is still on its way. Without reading it, the server would close
the connection and the client would see a broken pipe instead of the 4xx it should not retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import EmulatorConfig
from .fault_responses import close_connection, drop_connection, send_error, send_rate_limited
from .fault_target import V11_SNIFF_BYTES, X_V11_PATH, base_target, body_command, query_command, with_command
from .faults import FaultInjector, FaultRule
from .stats import RequestStats

#: Handlers may set this scope key to name the route in stats more precisely than its path.
STATS_KEY = "chunkup.stats_key"
DISCONNECT: Message = {"type": "http.disconnect"}


class _BodyTracker:
    """Wraps ``receive``: counts body bytes, knows whether the body was all read, can read ahead
    (``peek``) and can cut the connection partway through the body (``cut_midway``)."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.bytes = 0
        self.complete = False
        self.cut = False
        self._ahead: list[Message] = []
        self._cut_at: int | None = None
        self._delivered = 0

    async def _read(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.bytes += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete = True
        elif message["type"] == "http.disconnect":
            self.complete = True
        return message

    async def receive(self) -> Message:
        if self.cut:
            return DISCONNECT
        message = self._ahead.pop(0) if self._ahead else await self._read()
        if self._cut_at is not None and message["type"] == "http.request":
            size = len(message.get("body", b""))
            if not message.get("more_body", False) or self._delivered + size >= self._cut_at:
                # This message would complete the body or pass the cut: the connection breaks first.
                self.cut = self.complete = True
                self._ahead.clear()
                await close_connection(self._receive)
                return DISCONNECT
            self._delivered += size
        return message

    async def drain(self) -> None:
        while (not self.complete or self._ahead) and not self.cut:
            await self.receive()

    async def peek(self, limit: int, enough: Callable[[bytes, bool], object]) -> bytes:
        """Read ahead until ``enough(head, complete)``, the end, or ``limit`` bytes; ``receive`` replays it."""
        head = b"".join(m.get("body", b"") for m in self._ahead)
        while not self.complete and len(head) < limit and not enough(head, False):
            message = await self._read()
            self._ahead.append(message)
            head += message.get("body", b"")
        return head

    def cut_midway(self, content_length: int | None) -> None:
        """Break the connection once half the body arrived (the first message if the length is unknown).

        The message that would cross the middle, or end the body, is not delivered: the app
        sees a disconnect instead, so it never has the whole body.
        """
        self._cut_at = max(content_length // 2, 1) if content_length else 1


class EmulatorMiddleware:
    """Counts, drains and (when a fault rule matches) breaks requests outside ``control_prefix``."""

    def __init__(
        self,
        app: ASGIApp,
        stats: RequestStats,
        faults: FaultInjector,
        control_prefix: str = "/_emulator",
        config: EmulatorConfig | None = None,
    ) -> None:
        self.app = app
        self.stats = stats
        self.faults = faults
        self.control_prefix = control_prefix
        #: Live config: injected 429s announce the configured rate limits.
        self.config = config or EmulatorConfig()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.control_prefix):
            await self.app(scope, receive, send)
            return
        body = _BodyTracker(receive)
        status = ["-"]

        async def send_after_drain(message: Message) -> None:
            if message["type"] == "http.response.start":
                await body.drain()
            if body.cut:
                return  # the connection was cut mid-body: nobody left to answer
            if message["type"] == "http.response.start":
                status[0] = str(message["status"])
            await send(message)

        rule: FaultRule | None = None
        try:
            if self.faults.rules:
                rule = self.faults.take(await _fault_target(scope, body))
            if rule is None:
                await self.app(scope, body.receive, send_after_drain)
            elif rule.when == "before":
                await self._fault_before(rule, scope, body, receive, send_after_drain, status)
            elif rule.when == "mid_body":
                status[0] = "dropped"
                body.cut_midway(_content_length(scope))
                await self.app(scope, body.receive, send_after_drain)
            else:
                await self._fault_after(rule, scope, body, receive, send_after_drain, status)
        except ClientDisconnect:
            # The client hung up mid-body (or a mid_body fault hung up on it): nobody to answer.
            status[0] = "dropped" if body.cut else "disconnected"
        finally:
            self.stats.record(_stats_key(scope), body.bytes, status[0])

    async def _fault_before(
        self, rule: FaultRule, scope: Scope, body: _BodyTracker, receive: Receive, send: Send, status: list[str]
    ) -> None:
        if rule.action == "delay":
            await asyncio.sleep(rule.delay_secs)
            await self.app(scope, body.receive, send)
            return
        await body.drain()
        await self._emit_fault(rule, scope, receive, send, status)

    async def _fault_after(
        self, rule: FaultRule, scope: Scope, body: _BodyTracker, receive: Receive, send: Send, status: list[str]
    ) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                await body.drain()
            held.append(message)

        await self.app(scope, body.receive, hold)
        if rule.action == "delay":
            await asyncio.sleep(rule.delay_secs)
            for message in held:
                await send(message)
            return
        await self._emit_fault(rule, scope, receive, send, status)

    async def _emit_fault(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send, status: list[str]) -> None:
        if rule.action == "drop":
            status[0] = "dropped"
            await drop_connection(receive, send)
            return
        code = 429 if rule.action == "rate_limit" else self.faults.pick_status(rule)
        if code == 429:
            await send_rate_limited(scope["method"], scope["path"], rule.retry_after_secs, self.config, send)
        else:
            await send_error(code, send)


async def _fault_target(scope: Scope, body: _BodyTracker) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    target = base_target(scope["method"], scope["path"], query)
    if scope["path"] != X_V11_PATH:
        return target
    command = query_command(query)
    if command is None and scope["method"] == "POST":
        head = await body.peek(V11_SNIFF_BYTES, body_command)
        command = body_command(head, body.complete)
    return with_command(target, command)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _stats_key(scope: Scope) -> str:
    if STATS_KEY in scope:
        return str(scope[STATS_KEY])
    route = scope.get("route")
    path = getattr(route, "path", None) or scope["path"]
    return f"{scope['method']} {path}"
