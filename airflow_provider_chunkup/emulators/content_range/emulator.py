"""``Content-Range`` + ``upload_id`` chunked uploads: SelfCommunity's Media API on django-chunked-upload.

- ``POST <chunk_path>`` (multipart): the chunk in one of ``file_fields``, ``upload_id`` from the
  second chunk on, ``Content-Range: bytes start-end/total``; answers ``{upload_id, offset, expires}``.
- ``POST <complete_path>``: ``upload_id``, ``md5`` (of the whole file), optional ``type``;
  answers a SelfCommunity Media object.

Both paths come from the live config (PATCHable). Sources: SelfCommunity's developer docs and
django-chunked-upload's views (``/work/shared/api/chunk-protocols-and-test-servers.md``). Routes
parse requests and render responses; ``uploads`` decides.

Errors look like what the stack behind the API sends: ``{"detail": ...}`` JSON from the views
and Django REST framework's authentication, Django's own HTML pages for an unknown ``upload_id``
(``get_object_or_404`` in a plain Django view) and for a malformed multipart body.
"""

from __future__ import annotations

import functools
import json
import mimetypes
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route, request_response
from starlette.types import Receive, Scope, Send

from ..core.api import EmulatedApi
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded
from ..core.fault_target import QUERY
from ..core.forms import SMALL_FIELD_LIMIT, BodyError, media_type_of, read_json, read_multipart, read_urlencoded
from .config import ContentRangeEmulatorConfig
from .forms import read_chunk_form
from .uploads import MEDIA_TYPES, ContentRangeError, UploadNotFound, UploadStore

CONTROL = f"{PREFIX}/content-range"
#: Django's page for errors raised outside the view's own handling (no templates configured).
DJANGO_ERROR_PAGE = """
<!doctype html>
<html lang="en">
<head>
  <title>{title}</title>
</head>
<body>
  <h1>{title}</h1><p>{details}</p>
</body>
</html>
"""

Handler = Callable[["ContentRangeEmulator", Request], Awaitable[Response]]


class AuthError(Exception):
    """Django REST framework refusing the credentials: 403 when there are none, 401 when they are wrong."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json")


def django_page(status: int, title: str, details: str = "") -> Response:
    return HTMLResponse(DJANGO_ERROR_PAGE.format(title=title, details=details), status_code=status)


def not_found_page() -> Response:
    return django_page(404, "Not Found", "The requested resource was not found on this server.")


def authenticate(header: str | None, tokens: set[str]) -> str:
    """The bearer token (it names the user), checked as DRF's token authentication does."""
    parts = (header or "").split()
    if not parts or parts[0].lower() != "bearer":
        raise AuthError(403, "Authentication credentials were not provided.")
    if len(parts) == 1:
        raise AuthError(401, "Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise AuthError(401, "Invalid token header. Token string should not contain spaces.")
    if parts[1] not in tokens:
        raise AuthError(401, "Invalid token.")
    return parts[1]


def content_range_endpoint(handler: Handler) -> Handler:
    """Authenticate, then render refusals the way the real stack does."""

    @functools.wraps(handler)
    async def endpoint(self: ContentRangeEmulator, request: Request) -> Response:
        try:
            request.state.owner = authenticate(request.headers.get("authorization"), self.config.bearer_tokens)
            return await handler(self, request)
        except AuthError as exc:
            response = json_response({"detail": exc.detail}, exc.status)
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        except ContentRangeError as exc:
            return json_response(exc.body(), exc.status)
        except UploadNotFound:
            return not_found_page()
        except BodyError:
            # Django's MultiPartParserError becomes its plain 400 page.
            return django_page(400, "Bad Request (400)")

    return endpoint


class LivePathRoute(BaseRoute):
    """A POST route whose path is read from the live config on every request, so PATCH moves it.

    ``path`` is what the stats middleware keys the route by. Other methods get DRF's 405.
    """

    def __init__(self, path: Callable[[], str], endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self._path = path
        self.app = request_response(endpoint)

    @property
    def path(self) -> str:
        return self._path()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["path"] != self._path():
            return Match.NONE, {}
        return (Match.FULL if scope["method"] == "POST" else Match.PARTIAL), {"path_params": {}}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            await self.app(scope, receive, send)
            return
        response = json_response({"detail": f'Method "{scope["method"]}" not allowed.'}, 405)
        response.headers["Allow"] = "POST, OPTIONS"
        await response(scope, receive, send)


class ContentRangeEmulator(EmulatedApi):
    """The chunk and complete endpoints plus their inspection endpoints."""

    name = "content_range"
    title = "SelfCommunity / django-chunked-upload"
    config_type = ContentRangeEmulatorConfig

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.store = UploadStore(context.storage, lambda: context.config.content_range)

    @property
    def config(self) -> ContentRangeEmulatorConfig:
        return self.context.config.content_range

    def reset(self) -> None:
        self.store.forget_all()

    # -- fault injection ------------------------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: ContentRangeEmulatorConfig) -> list[str]:
        return [rf"POST {re.escape(config.chunk_path)}{QUERY}"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """Django REST framework's throttled answer: ``Retry-After`` and ``{"detail": ...}``."""
        if path not in (self.config.chunk_path, self.config.complete_path):
            return None
        unit = "second" if retry_after_secs == 1 else "seconds"
        detail = f"Request was throttled. Expected available in {retry_after_secs} {unit}."
        response = json_response({"detail": detail}, 429)
        response.headers["Retry-After"] = str(retry_after_secs)
        return response

    def routes(self) -> list[BaseRoute]:
        return [
            LivePathRoute(lambda: self.config.chunk_path, self.chunk),
            LivePathRoute(lambda: self.config.complete_path, self.complete),
        ]

    @content_range_endpoint
    async def chunk(self, request: Request) -> Response:
        config = self.config
        if media_type_of(request) != "multipart/form-data":
            # Django parses no files out of any other body.
            raise ContentRangeError("No chunk file was submitted")
        form = await read_chunk_form(request, self.context.storage, config.file_fields, config.max_chunk_bytes)
        try:
            part = form.chunk(config.file_fields)
            if part is None:
                raise ContentRangeError("No chunk file was submitted")
            # ``expires`` (SelfCommunity documents it, optional) changes nothing: expiry runs from creation.
            upload = await self.store.receive(
                request.state.owner, form.fields.get("upload_id"), part, request.headers.get("content-range")
            )
        finally:
            form.discard()
        return json_response(self.store.chunk_json(upload), config.success_status)

    @content_range_endpoint
    async def complete(self, request: Request) -> Response:
        fields = await self._form_fields(request)
        upload_id, md5, media_type = fields.get("upload_id"), fields.get("md5"), fields.get("type")
        if not upload_id or not md5:
            raise ContentRangeError("Both 'upload_id' and 'md5' are required")
        if media_type and media_type not in MEDIA_TYPES:
            # A DRF serializer's ChoiceField error, keyed by the field.
            return json_response({"type": [f'"{media_type}" is not a valid choice.']}, 400)
        media = self.store.complete(request.state.owner, upload_id, md5, media_type or None)
        return json_response(self.store.media_json(media, base_url(request)), self.config.success_status)

    async def _form_fields(self, request: Request) -> dict[str, str]:
        """The complete call's fields: multipart (the official client), urlencoded, or JSON."""
        content_type = media_type_of(request)
        if content_type == "multipart/form-data":
            form = await read_multipart(request, self.context.storage, ())
            return form.fields
        if content_type == "application/x-www-form-urlencoded":
            return dict(await read_urlencoded(request))
        if content_type == "application/json":
            body = await read_json(request, SMALL_FIELD_LIMIT)
            if not isinstance(body, dict):
                raise ContentRangeError("JSON parse error - the body must be an object")
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items() if v is not None}
        return {}

    # -- inspection and control (under /_emulator/content-range, no auth) -----------------------

    def control_routes(self) -> list[BaseRoute]:
        return [
            Route(f"{CONTROL}/uploads", self._control(self._list_uploads), methods=["GET"]),
            Route(f"{CONTROL}/uploads/{{upload_id}}", self._control(self._inspect_upload), methods=["GET"]),
            Route(f"{CONTROL}/uploads/{{upload_id}}/expire", self._control(self._expire_upload), methods=["POST"]),
            Route(f"{CONTROL}/media/{{id}}", self._control(self._inspect_media), methods=["GET"]),
            Route(f"{CONTROL}/media/{{id}}/file", self._control(self._media_file), methods=["GET"]),
        ]

    @staticmethod
    def _control(handler: ControlHandler) -> ControlHandler:
        """Plain ``{"error": ...}`` bodies, as the other control endpoints answer."""
        return guarded(handler, lambda exc: (404, f"no such upload or media: {exc}")
                       if isinstance(exc, UploadNotFound) else None)

    async def _list_uploads(self, _: Request) -> Response:
        return json_response(self.store.listing())

    async def _inspect_upload(self, request: Request) -> Response:
        return json_response(self.store.inspect(self.store.get(request.path_params["upload_id"])))

    async def _expire_upload(self, request: Request) -> Response:
        return json_response(self.store.inspect(self.store.expire(request.path_params["upload_id"])))

    async def _inspect_media(self, request: Request) -> Response:
        media = self.store.get_media(request.path_params["id"])
        return json_response(self.store.inspect_media(media, base_url(request)))

    async def _media_file(self, request: Request) -> Response:
        media = self.store.get_media(request.path_params["id"])
        content_type = mimetypes.guess_type(media.title)[0] or "application/octet-stream"
        return FileResponse(media.path, media_type=content_type)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")
