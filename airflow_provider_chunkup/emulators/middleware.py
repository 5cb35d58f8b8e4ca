"""ASGI middleware around the emulated APIs: request stats, body draining, fault injection.

Draining matters for clients: when a handler answers early (401, 404, a too-large segment) the
rest of a multi-megabyte body is still on its way. Without reading it, the server would close
the connection and the client would see a broken pipe instead of the 4xx it should not retry.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import FaultInjector, FaultRule
from .stats import RequestStats

#: Handlers may set this scope key to name the route in stats more precisely than its path.
STATS_KEY = "chunkup.stats_key"


class _BodyTracker:
    """Wraps ``receive`` to count request body bytes and know whether the body was all read."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.bytes = 0
        self.complete = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.bytes += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete = True
        elif message["type"] == "http.disconnect":
            self.complete = True
        return message

    async def drain(self) -> None:
        while not self.complete:
            await self.receive()


class EmulatorMiddleware:
    """Counts, drains and (when a fault rule matches) breaks requests outside ``control_prefix``."""

    def __init__(
        self, app: ASGIApp, stats: RequestStats, faults: FaultInjector, control_prefix: str = "/_emulator"
    ) -> None:
        self.app = app
        self.stats = stats
        self.faults = faults
        self.control_prefix = control_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.control_prefix):
            await self.app(scope, receive, send)
            return
        body = _BodyTracker(receive)
        status = ["-"]

        async def send_after_drain(message: Message) -> None:
            if message["type"] == "http.response.start":
                await body.drain()
                status[0] = str(message["status"])
            await send(message)

        rule = self.faults.take(_fault_target(scope)) if self.faults.rules else None
        try:
            if rule is None:
                await self.app(scope, body.receive, send_after_drain)
            elif rule.when == "before":
                await self._fault_before(rule, scope, body, receive, send_after_drain, status)
            else:
                await self._fault_after(rule, scope, body, receive, send_after_drain, status)
        except ClientDisconnect:
            # The client hung up mid-body: nobody to answer, and nothing worth logging as an error.
            status[0] = "disconnected"
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
        await self._emit_fault(rule, receive, send, status)

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
        await self._emit_fault(rule, receive, send, status)

    async def _emit_fault(self, rule: FaultRule, receive: Receive, send: Send, status: list[str]) -> None:
        if rule.action == "drop":
            status[0] = "dropped"
            await _drop_connection(receive, send)
            return
        await _send_error(rule.status, send)


def _fault_target(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope['method']} {scope['path']}" + (f"?{query}" if query else "")


def _stats_key(scope: Scope) -> str:
    if STATS_KEY in scope:
        return str(scope[STATS_KEY])
    route = scope.get("route")
    path = getattr(route, "path", None) or scope["path"]
    return f"{scope['method']} {path}"


async def _send_error(status: int, send: Send) -> None:
    headers: list[tuple[bytes, bytes]]
    if status == 429:
        payload: dict[str, Any] = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
        headers = [(b"content-type", b"application/json")]
    else:
        payload = {
            "title": "Injected fault",
            "type": "about:blank",
            "status": status,
            "detail": "Fault injected by chunkup-emulator",
        }
        headers = [(b"content-type", b"application/problem+json")]
    raw = json.dumps(payload).encode()
    headers.append((b"content-length", str(len(raw)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


async def _drop_connection(receive: Receive, send: Send) -> None:
    """Close the TCP connection without a response.

    ASGI has no "abort" message, so this reaches for uvicorn's transport behind ``receive``;
    letting the loop run once afterwards marks the request disconnected, so uvicorn does not log
    the unfinished response as an application error.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is not None:
        transport.close()
        for _ in range(3):
            await asyncio.sleep(0)
        return
    # Not uvicorn: promise a body and never send it, which servers answer by closing.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
