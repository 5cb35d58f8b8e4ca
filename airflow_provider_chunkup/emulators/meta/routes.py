"""Routes whose first segment is a Graph version (``/v23.0/...``): nothing else of the emulator's paths looks so."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, request_response
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
#: A Graph version segment.
VERSION = r"v\d+\.0"


class VersionedRoute(BaseRoute):
    """``path`` (``/{ver}/{node}/videos``, segments as Starlette writes them) with ``{ver}`` a Graph version and
    every other parameter one segment; ``path`` also keys the stats. Another method gets ``not_allowed``."""

    def __init__(self, path: str, endpoint: Endpoint, methods: tuple[str, ...],
                 not_allowed: Callable[[str, tuple[str, ...]], Response]) -> None:  # fmt: skip
        self.path = path
        pattern = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m[1]}>{VERSION if m[1] == 'ver' else '[^/]+'})", path)
        self._regex = re.compile(f"^{pattern}$")
        self.methods = methods
        self._not_allowed = not_allowed
        self.app = request_response(endpoint)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        found = self._regex.match(scope["path"])
        if found is None:
            return Match.NONE, {}
        child = {"path_params": {**scope.get("path_params", {}), **found.groupdict()}}
        return (Match.FULL if scope["method"] in self.methods else Match.PARTIAL), child

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in self.methods:
            await self.app(scope, receive, send)
            return
        await self._not_allowed(scope["method"], self.methods)(scope, receive, send)
