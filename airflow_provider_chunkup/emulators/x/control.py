"""X's inspection endpoints under ``/_emulator/x/`` (no auth): media and posts as stored, steered on demand.

- ``GET /_emulator/x/media[/{id}]`` (with ``alt_text`` and ``subtitles``);
  ``POST /_emulator/x/media/{id}/expire``; ``POST /_emulator/x/media/{id}/processing``
  ``{"outcome": "failed", "error": {...}}``
- ``GET /_emulator/x/posts[/{id}]``: posts as stored (``POST /2/tweets``), newest first
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.control import PREFIX, control_error, guarded, json_object
from .media import XMediaError, XMediaStore
from .posts import XPostStore

CONTROL = f"{PREFIX}/x"


def _known(exc: Exception) -> tuple[int, str] | None:
    """Unknown media as its status (404)."""
    return (exc.status, exc.detail) if isinstance(exc, XMediaError) else None


def control_routes(media: XMediaStore, posts: XPostStore) -> list[BaseRoute]:
    async def media_list(_: Request) -> Response:
        return JSONResponse(media.listing())

    async def media_detail(request: Request) -> Response:
        return JSONResponse(media.inspect(media.get(request.path_params["id"])))

    async def expire(request: Request) -> Response:
        return JSONResponse(media.inspect(media.expire(request.path_params["id"])))

    async def processing(request: Request) -> Response:
        body = await json_object(request)
        unknown = set(body) - {"outcome", "error"}
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        error = body.get("error")
        if error is not None and not isinstance(error, dict):
            raise ValueError("error must be an object like {code, name, message}")
        item = media.set_processing_override(request.path_params["id"], body.get("outcome", ""), error)
        return JSONResponse(media.inspect(item))

    async def post_list(_: Request) -> Response:
        return JSONResponse([post.inspect() for post in posts.newest_first()])

    async def post_detail(request: Request) -> Response:
        post = posts.posts.get(request.path_params["id"])
        if post is None:
            return control_error(404, f"no post {request.path_params['id']}")
        return JSONResponse(post.inspect())

    def route(path: str, handler: Callable[[Request], Awaitable[Response]], method: str) -> Route:
        return Route(CONTROL + path, guarded(handler, _known), methods=[method])

    return [
        route("/media", media_list, "GET"),
        route("/media/{id}", media_detail, "GET"),
        route("/media/{id}/expire", expire, "POST"),
        route("/media/{id}/processing", processing, "POST"),
        route("/posts", post_list, "GET"),
        route("/posts/{id}", post_detail, "GET"),
    ]
