"""ASGI middleware around the emulated APIs: request stats, body draining, fault injection.

Draining matters for clients: when a handler answers early (401, 404, a too-large segment) the
rest of a multi-megabyte body is still on its way. Without reading it, the server would close
the connection and the client would see a broken pipe instead of the 4xx it should not retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import EmulatedApi
from .fault_responses import drop_connection, send_error
from .fault_target import fault_target
from .faults import FaultInjector, FaultRule
from .stats import COMMAND_KEY, STATS_KEY, RequestStats


class _BodyTracker:
    """Wraps ``receive``: counts body bytes, knows whether the body was all read, and can read
    ahead (``peek``, the ``RequestHead`` an API's ``request_command`` sees) for ``receive`` to replay."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.bytes = 0
        self.complete = False
        self._ahead: list[Message] = []

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
        return self._ahead.pop(0) if self._ahead else await self._read()

    async def drain(self) -> None:
        while not self.complete:
            await self._read()

    async def peek(self, limit: int, enough: Callable[[bytes, bool], object]) -> bytes:
        """Read ahead until ``enough(head, complete)``, the end, or ``limit`` bytes; ``receive`` replays it."""
        head = b"".join(m.get("body", b"") for m in self._ahead)
        while not self.complete and len(head) < limit and not enough(head, False):
            message = await self._read()
            self._ahead.append(message)
            head += message.get("body", b"")
        return head

    async def read_part(self, content_length: int | None) -> None:
        """Read about half the body (its first message when the length is unknown), no more."""
        goal = max(content_length // 2, 1) if content_length else 1
        while not self.complete and self.bytes < goal:
            await self._read()


class EmulatorMiddleware:
    """Counts, drains and (when a fault rule matches) breaks requests outside ``control_prefix``."""

    def __init__(
        self,
        app: ASGIApp,
        stats: RequestStats,
        faults: FaultInjector,
        control_prefix: str = "/_emulator",
        apis: Sequence[EmulatedApi] = (),
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.app = app
        self.stats = stats
        self.faults = faults
        self.control_prefix = control_prefix
        #: The emulated APIs: they name operations inside requests and dress injected 429s.
        self.apis = list(apis)
        #: The app's routes, to key stats of requests a fault kept from reaching their handler.
        self.routes = list(routes)

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

        try:
            target = await fault_target(scope, body, self.apis)  # also keys the stats by the operation named
            rule = self.faults.take(target) if self.faults.rules else None
            if rule is None:
                await self.app(scope, body.receive, send_after_drain)
            elif rule.when == "before":
                await self._fault_before(rule, scope, body, receive, send_after_drain, status)
            elif rule.when == "mid_body":
                # Half the body arrived and the client is still sending when the connection breaks.
                await body.read_part(_content_length(scope))
                status[0] = "dropped"
                await drop_connection(receive, send)
            else:
                await self._fault_after(rule, scope, body, receive, send_after_drain, status)
        except ClientDisconnect:
            # The client hung up mid-body: nobody to answer, and nothing worth logging as an error.
            status[0] = "disconnected"
        finally:
            self.stats.record(self._stats_key(scope), body.bytes, status[0])

    def _stats_key(self, scope: Scope) -> str:
        if STATS_KEY in scope:
            return str(scope[STATS_KEY])
        route = scope.get("route")
        if route is None:  # the handler did not run (a fault before it): find its route
            route = next((r for r in self.routes if r.matches(scope)[0] is Match.FULL), None)
        path = getattr(route, "path", None) or scope["path"]
        key = f"{scope['method']} {path}"
        return f"{key} {scope[COMMAND_KEY]}" if scope.get(COMMAND_KEY) else key

    async def _fault_before(
        self, rule: FaultRule, scope: Scope, body: _BodyTracker, receive: Receive, send: Send, status: list[str]
    ) -> None:
        if rule.action == "delay":
            await asyncio.sleep(rule.delay_for(_content_length(scope)))
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
            await asyncio.sleep(rule.delay_for(body.bytes))
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
        if code != 429:
            await send_error(code, send)
            return
        for api in self.apis:
            response = api.rate_limited(scope["method"], scope["path"], rule.retry_after_secs)
            if response is not None:
                await response(scope, receive, send)
                return
        await send_error(429, send, [(b"retry-after", str(rule.retry_after_secs).encode())])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
