"""Control and inspection endpoints under ``/_emulator/`` (not part of any real API, no auth).

Tests, benchmarks and the demo use them to look inside the emulator (what it stored, the sha256
of an assembled upload, request counters) and to steer it (config, expiry, processing outcome,
injected faults) even when it runs as a separate process. Here: health, config, stats, reset and
faults; each API adds its own under ``PREFIX`` (``EmulatedApi.control_routes``), answering errors
with ``control_error``.

``/_emulator/faults``: GET answers ``{"seed", "rules" (each with matched and hits), "injected"
(per action, processing failures, total)}``; POST takes a rule, a list of rules, or
``{"preset": "chunks:0.1", "seed": 7, "rules": [...]}`` (a ``seed`` alone restarts the random
sequence); DELETE removes every rule, zeroes the counts and restarts the sequence.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .api import EmulatedApi, all_chunk_targets
from .config import ConfigPatchError, apply_config_patch, config_to_dict
from .context import EmulatorContext
from .fault_specs import plan_from_json

PREFIX = "/_emulator"


def control_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def json_value(request: Request) -> Any:
    """The request body as JSON ({} when empty)."""
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty)."""
    value = await json_value(request)
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


ControlHandler = Callable[[Request], Awaitable[Response]]


def guarded(handler: ControlHandler,
            known: Callable[[Exception], tuple[int, str] | None] = lambda exc: None) -> ControlHandler:
    """A control endpoint answering errors as plain ``{"error": ...}`` bodies: what ``known`` recognises (an API's
    own errors: unknown upload -> 404...) with the status it gives, bad input (``ValueError``) as 400."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as exc:
            answer = known(exc)
            if answer is not None:
                return control_error(*answer)
            if isinstance(exc, (ValueError, ConfigPatchError)):
                return control_error(400, str(exc))
            raise

    return endpoint


def control_routes(context: EmulatorContext, apis: Sequence[EmulatedApi]) -> list[BaseRoute]:
    """Routes for the whole emulator: health, config, stats, reset, faults (each API adds its own)."""

    async def health(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def get_config(_: Request) -> Response:
        return JSONResponse(config_to_dict(context.config))

    async def patch_config(request: Request) -> Response:
        apply_config_patch(context.config, await json_object(request))
        return JSONResponse(config_to_dict(context.config))

    def stats_snapshot() -> dict[str, Any]:
        counts = {name: count for api in apis for name, count in api.stats().items()}
        return {**context.stats.snapshot(), "faults_injected": context.faults.injected_total, **counts}

    async def stats(_: Request) -> Response:
        return JSONResponse(stats_snapshot())

    async def reset_stats(_: Request) -> Response:
        context.stats.reset()
        context.faults.reset_counts()
        return JSONResponse(stats_snapshot())

    async def reset_all(_: Request) -> Response:
        context.reset()
        for api in apis:
            api.reset()
        return JSONResponse({"ok": True})

    async def list_faults(_: Request) -> Response:
        return JSONResponse(context.faults.snapshot())

    async def add_fault(request: Request) -> Response:
        """A rule (answers it), a list (answers them), or ``{preset, seed, rules}`` (answers the snapshot)."""
        value = await json_value(request)
        plan = plan_from_json(value, all_chunk_targets(apis, context.config))
        rules = context.faults.add_all(plan.rules)  # all valid, or nothing changes
        if plan.seed is not None:
            context.faults.reseed(plan.seed)
        if isinstance(value, list):
            return JSONResponse([rule.to_dict() for rule in rules], status_code=201)
        if "match" in value:
            return JSONResponse(rules[0].to_dict(), status_code=201)
        return JSONResponse(context.faults.snapshot(), status_code=201 if rules else 200)

    async def clear_faults(_: Request) -> Response:
        context.faults.clear()
        return JSONResponse(context.faults.snapshot())

    def route(path: str, handler: Callable[[Request], Awaitable[Response]], method: str) -> Route:
        return Route(PREFIX + path, guarded(handler), methods=[method])

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
    ]
