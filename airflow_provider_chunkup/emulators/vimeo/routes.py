"""Routes under a prefix read from the live config on every request (``vimeo.prefix``), so a PATCH moves them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, compile_path, request_response
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class PrefixedRoute(BaseRoute):
    """``<prefix><template>`` (``template`` as Starlette writes paths: ``/videos/{video_id}``) for ``methods``.

    ``path`` is what the stats middleware keys the route by. Another method on the path gets ``not_allowed``.
    """

    def __init__(self, prefix: Callable[[], str], template: str, endpoint: Endpoint, methods: tuple[str, ...],
                 not_allowed: Callable[[str, tuple[str, ...]], Response]) -> None:  # fmt: skip
        self._prefix = prefix
        self.template = template
        self._regex: re.Pattern[str] = compile_path(template)[0]
        self.methods = methods
        self._not_allowed = not_allowed
        self.app = request_response(endpoint)

    @property
    def path(self) -> str:
        return f"{self._prefix()}{self.template}"

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        prefix, path = self._prefix(), scope["path"]
        if not path.startswith(prefix):
            return Match.NONE, {}
        found = self._regex.match(path[len(prefix):])
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
