"""Control and inspection endpoints under ``/_emulator/`` (not part of any real API, no auth).

Tests, benchmarks and the demo use them to look inside the emulator (what it stored, the sha256
of an assembled upload, request counters) and to steer it (config, expiry, processing outcome,
injected faults) even when it runs as a separate process.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .config import ConfigPatchError, apply_config_patch, config_to_dict
from .context import EmulatorContext
from .x import XEmulator
from .x_media import XMediaError

PREFIX = "/_emulator"


def control_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Map bad input to 400 and unknown media to 404 with a plain ``{"error": ...}`` body."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except XMediaError as exc:
            return control_error(exc.status, exc.detail)
        except (ValueError, ConfigPatchError) as exc:
            return control_error(400, str(exc))

    return endpoint


def control_routes(context: EmulatorContext, x: XEmulator) -> list[BaseRoute]:
    """Routes for the whole emulator plus each API's inspection endpoints."""

    async def health(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def get_config(_: Request) -> Response:
        return JSONResponse(config_to_dict(context.config))

    async def patch_config(request: Request) -> Response:
        apply_config_patch(context.config, await json_object(request))
        return JSONResponse(config_to_dict(context.config))

    async def stats(_: Request) -> Response:
        return JSONResponse(context.stats.snapshot())

    async def reset_stats(_: Request) -> Response:
        context.stats.reset()
        return JSONResponse(context.stats.snapshot())

    async def reset_all(_: Request) -> Response:
        context.reset()
        return JSONResponse({"ok": True})

    async def list_faults(_: Request) -> Response:
        return JSONResponse(context.faults.snapshot())

    async def add_fault(request: Request) -> Response:
        rule = context.faults.add(await json_object(request))
        return JSONResponse(rule.to_dict(), status_code=201)

    async def clear_faults(_: Request) -> Response:
        context.faults.clear()
        return JSONResponse([])

    async def x_media_list(_: Request) -> Response:
        return JSONResponse(x.store.listing())

    async def x_media_detail(request: Request) -> Response:
        return JSONResponse(x.store.inspect(x.store.get(request.path_params["id"])))

    async def x_expire(request: Request) -> Response:
        return JSONResponse(x.store.inspect(x.store.expire(request.path_params["id"])))

    async def x_processing(request: Request) -> Response:
        body = await json_object(request)
        unknown = set(body) - {"outcome", "error"}
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        error = body.get("error")
        if error is not None and not isinstance(error, dict):
            raise ValueError("error must be an object like {code, name, message}")
        media = x.store.set_processing_override(request.path_params["id"], body.get("outcome", ""), error)
        return JSONResponse(x.store.inspect(media))

    def route(path: str, handler: Callable[[Request], Awaitable[Response]], method: str) -> Route:
        return Route(PREFIX + path, _guarded(handler), methods=[method])

    return [
        route("/health", health, "GET"),
        route("/config", get_config, "GET"),
        route("/config", patch_config, "PATCH"),
        route("/stats", stats, "GET"),
        route("/stats/reset", reset_stats, "POST"),
        route("/reset", reset_all, "POST"),
        route("/faults", list_faults, "GET"),
        route("/faults", add_fault, "POST"),
        route("/faults", clear_faults, "DELETE"),
        route("/x/media", x_media_list, "GET"),
        route("/x/media/{id}", x_media_detail, "GET"),
        route("/x/media/{id}/expire", x_expire, "POST"),
        route("/x/media/{id}/processing", x_processing, "POST"),
    ]
