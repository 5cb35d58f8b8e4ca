"""The generic tus 1.0.0 server (``TusEmulator``): a tusd-like server on ``tus.path`` (default ``/files/``).

- ``OPTIONS <path>`` / ``<path><id>``: ``Tus-Version``, ``Tus-Extension``, ``Tus-Max-Size``, ``Tus-Checksum-Algorithm``.
- ``POST <path>``: creation (``Upload-Length`` or ``Upload-Defer-Length: 1``, ``Upload-Metadata``,
  ``Upload-Concat``, a first body with creation-with-upload): 201 + ``Location`` (a path, or absolute
  with ``tus.absolute_location``).
- ``HEAD``, ``PATCH``, ``DELETE <path><id>``: offset, append, termination.

The protocol is in ``server`` (``TusServer``), the uploads and their bytes in ``uploads``
(``TusUploadStore``), header parsing in ``headers``; this module only mounts them and adds the
inspection endpoints. Sources: ``/work/shared/api/tus-vimeo-cloudflare.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route, request_response
from starlette.types import Receive, Scope, Send

from ..core.api import EmulatedApi
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded
from ..core.fault_target import QUERY
from .config import TusEmulatorConfig
from .server import TusServer, tus_response
from .uploads import TusUploadStore, UploadGone

CONTROL = f"{PREFIX}/tus"
#: Counts ``stats()`` always reports (0 until something happens).
STAT_NAMES = (
    "tus_uploads_created", "tus_empty_metadata", "tus_checksum_mismatches", "tus_checksums_ignored",
    "tus_broken_bodies", "tus_locked", "tus_terminated", "tus_concatenated",
)  # fmt: skip


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json")


class LiveTusRoute(BaseRoute):
    """A route under a base path read from the live config on every request, for every method.

    ``template`` gives the path stats key it by: the base itself (creation; ``/files`` without its
    slash also matches) or ``<base>{upload_id}``.
    """

    def __init__(self, base: Callable[[], str], endpoint: Callable[[Request], Awaitable[Response]],
                 upload: bool) -> None:
        self._base = base
        self._upload = upload
        self.app = request_response(endpoint)

    @property
    def path(self) -> str:
        return f"{self._base()}{{upload_id}}" if self._upload else self._base()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        base, path = self._base(), scope["path"]
        if not self._upload:
            return (Match.FULL, {"path_params": {}}) if path in (base, base.rstrip("/")) else (Match.NONE, {})
        rest = path[len(base):] if path.startswith(base) else ""
        if not rest or "/" in rest:
            return Match.NONE, {}
        return Match.FULL, {"path_params": {"upload_id": rest}}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class TusEmulator(EmulatedApi):
    """A generic tus 1.0.0 server plus its inspection endpoints."""

    name = "tus"
    title = "tus 1.0.0"
    config_type = TusEmulatorConfig

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.store = TusUploadStore(context.storage, lambda: self.config)
        self.server = TusServer(self.store, lambda: self.config, lambda: self.config.path)

    @property
    def config(self) -> TusEmulatorConfig:
        return self.context.config.tus

    def routes(self) -> list[BaseRoute]:
        base = lambda: self.config.path  # noqa: E731
        return [
            LiveTusRoute(base, self.server.handle_collection, upload=False),
            LiveTusRoute(base, self.server.handle_upload, upload=True),
        ]

    def reset(self) -> None:
        self.store.forget_all()

    def stats(self) -> dict[str, int]:
        """Uploads held, and events counted since the last reset (``POST /_emulator/stats/reset`` cannot reach
        an API's counts: the interface has no hook for it)."""
        return {"tus_uploads": len(self.store.uploads), **{n: self.store.counts.get(n, 0) for n in STAT_NAMES}}

    # -- fault injection ------------------------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: TusEmulatorConfig) -> list[str]:
        return [rf"PATCH {re.escape(config.path)}[^/?]+{QUERY}"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """tus defines no 429 of its own: tusd-style plain text with ``Retry-After`` and ``Tus-Resumable``."""
        base = self.config.path
        if not (path.startswith(base) or path == base.rstrip("/")):
            return None
        return tus_response(429, {"Retry-After": str(retry_after_secs)}, "Too Many Requests")

    # -- inspection (under /_emulator/tus, no auth) ---------------------------------------------

    def control_routes(self) -> list[BaseRoute]:
        return [
            Route(f"{CONTROL}/uploads", self._control(self._list_uploads), methods=["GET"]),
            Route(f"{CONTROL}/uploads/{{upload_id}}", self._control(self._inspect_upload), methods=["GET"]),
            Route(f"{CONTROL}/uploads/{{upload_id}}/expire", self._control(self._expire_upload), methods=["POST"]),
        ]

    @staticmethod
    def _control(handler: ControlHandler) -> ControlHandler:
        return guarded(handler, lambda exc: (404, f"no such upload: {exc}") if isinstance(exc, UploadGone) else None)

    def _inspect(self, upload_id: str) -> dict[str, Any]:
        upload = self.store.find(upload_id)
        return self.store.inspect(upload, f"{self.config.path}{upload.id}")

    async def _list_uploads(self, _: Request) -> Response:
        return json_response([self._inspect(upload.id) for upload in self.store.newest_first()])

    async def _inspect_upload(self, request: Request) -> Response:
        return json_response(self._inspect(request.path_params["upload_id"]))

    async def _expire_upload(self, request: Request) -> Response:
        self.store.expire(request.path_params["upload_id"])
        return json_response(self._inspect(request.path_params["upload_id"]))
