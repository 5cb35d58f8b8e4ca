"""The inspection and steering of a front door's resumable sessions, under its ``/_emulator/<api>`` prefix.

- ``GET .../sessions`` (newest first) and ``.../sessions/{upload_id}``: what each session persisted.
- ``POST .../sessions/{upload_id}/expire``: the session expires now (its URI answers 404).
- ``POST .../sessions/{upload_id}/kill``: the session dies now (410); a JSON ``{"reason": ...}`` is optional.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.control import ControlHandler
from .errors import json_response
from .sessions import ResumableSession, ResumableSessions


class SessionControls:
    """The four session endpoints of one front door.

    :param sessions: the front door's session store.
    :param view: what a session looks like in the answers (the store's ``inspect`` plus the API's own fields).
    :param guard: wraps each handler as the front door's other control endpoints are wrapped.
    """

    def __init__(self, sessions: ResumableSessions, view: Callable[[ResumableSession], dict[str, Any]],
                 guard: Callable[[ControlHandler], ControlHandler]) -> None:
        self.sessions = sessions
        self.view = view
        self.guard = guard

    def routes(self, prefix: str) -> list[BaseRoute]:
        return [
            Route(f"{prefix}/sessions", self.guard(self._list), methods=["GET"]),
            Route(f"{prefix}/sessions/{{upload_id}}", self.guard(self._inspect), methods=["GET"]),
            Route(f"{prefix}/sessions/{{upload_id}}/expire", self.guard(self._expire), methods=["POST"]),
            Route(f"{prefix}/sessions/{{upload_id}}/kill", self.guard(self._kill), methods=["POST"]),
        ]

    async def _list(self, _: Request) -> Response:
        return json_response([self.view(s) for s in self.sessions.newest_first()])

    async def _inspect(self, request: Request) -> Response:
        return json_response(self.view(self.sessions.find(request.path_params["upload_id"])))

    async def _expire(self, request: Request) -> Response:
        session = self.sessions.find(request.path_params["upload_id"])
        self.sessions.expire(session)
        return json_response(self.view(session))

    async def _kill(self, request: Request) -> Response:
        session = self.sessions.find(request.path_params["upload_id"])
        raw = await request.body()
        reason = json.loads(raw).get("reason", "killed") if raw.strip() else "killed"
        self.sessions.kill(session, str(reason))
        return json_response(self.view(session))
