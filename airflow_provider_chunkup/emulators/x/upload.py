"""X media upload routes: v2 (``/2/media/upload/...``) and legacy v1.1 (``/1.1/media/upload.json``).

Both versions share one ``XMediaStore``, so an upload started on one can be inspected (or even
continued) on the other. Paths, fields and response shapes follow X's OpenAPI spec (v2) and the
developer docs (v1.1); see ``/work/shared/api/x-media-upload.md`` for sources. Auth, rate-limit
buckets and error bodies: ``endpoint.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.context import EmulatorContext
from ..core.forms import (
    SMALL_FIELD_LIMIT,
    BodyError,
    ReceivedForm,
    media_type_of,
    read_json,
    read_multipart,
)
from ..core.stats import STATS_KEY
from .endpoint import STATUS_BUCKET, UPLOAD_BUCKET, V2, V11, XRoutes, json_response, x_endpoint
from .media import ID_PATTERN, V11_SYNC_VIDEO_LIMIT, XMedia, XMediaError, XMediaStore

V2_INIT_FIELDS = frozenset({"media_type", "media_category", "total_bytes", "shared", "additional_owners"})
V2_APPEND_FIELDS = frozenset({"media", "segment_index"})
V2_STATUS_QUERY = frozenset({"media_id", "command"})
#: v1.1's one path for INIT, APPEND, FINALIZE and STATUS (``faults.py`` reads the command for fault rules).
V11_PATH = "/1.1/media/upload.json"


def base64_length(decoded_bytes: int) -> int:
    return 4 * math.ceil(decoded_bytes / 3)


class XUpload(XRoutes):
    """The X media upload API, v2 and v1.1, on one media store."""

    def __init__(self, context: EmulatorContext, store: XMediaStore) -> None:
        self.context = context
        self.store = store

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/2/media/upload/initialize", self.v2_initialize, methods=["POST"]),
            Route("/2/media/upload/{id}/append", self.v2_append, methods=["POST"]),
            Route("/2/media/upload/{id}/finalize", self.v2_finalize, methods=["POST"]),
            Route("/2/media/upload", self.v2_status, methods=["GET"]),
            Route(V11_PATH, self.v11_upload, methods=["GET", "POST"]),
        ]

    # -- v2 -------------------------------------------------------------------------------------

    @x_endpoint(V2, UPLOAD_BUCKET)
    async def v2_initialize(self, request: Request) -> Response:
        content_type = media_type_of(request)
        if content_type != "application/json":
            raise XMediaError(
                f"Unsupported Content-Type {content_type or '(none)'!r}: initialize takes application/json.",
                parameter="Content-Type",
                value=content_type,
            )
        body = await read_json(request, SMALL_FIELD_LIMIT)
        if not isinstance(body, dict):
            raise XMediaError("The request body must be a JSON object.")
        unknown = sorted(set(body) - V2_INIT_FIELDS)
        if unknown:
            raise XMediaError.invalid(unknown[0], body[unknown[0]], "unknown field (additionalProperties: false)")
        media_type = body.get("media_type")
        if media_type is None:
            raise XMediaError.missing("media_type")
        if not isinstance(media_type, str):
            raise XMediaError.invalid("media_type", media_type, "must be a string")
        category = body.get("media_category")
        if category is not None and not isinstance(category, str):
            raise XMediaError.invalid("media_category", category, "must be a string")
        total_bytes = body.get("total_bytes")
        if total_bytes is None:
            raise XMediaError.missing("total_bytes")
        if isinstance(total_bytes, bool) or not isinstance(total_bytes, int):
            raise XMediaError.invalid("total_bytes", total_bytes, "must be an integer")
        shared = body.get("shared", False)
        if not isinstance(shared, bool):
            raise XMediaError.invalid("shared", shared, "must be true or false")
        owners = body.get("additional_owners", [])
        if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
            raise XMediaError.invalid("additional_owners", owners, "must be an array of user id strings")
        media = self.store.initialize(
            media_type=media_type,
            media_category=category,
            total_bytes=total_bytes,
            shared=shared,
            additional_owners=owners,
        )
        data = {"id": media.id, "media_key": media.media_key, "expires_after_secs": media.expires_after_secs()}
        return json_response({"data": data})

    @x_endpoint(V2, UPLOAD_BUCKET)
    async def v2_append(self, request: Request) -> Response:
        media_id = request.path_params["id"]
        self.store.get_open(media_id)  # refuse before reading megabytes for a dead session
        content_type = media_type_of(request)
        if content_type == "multipart/form-data":
            form = await read_multipart(request, self.context.storage, {"media"}, self.config.max_segment_bytes)
        elif content_type == "application/json":
            form = await self._read_json_append(request)
        else:
            raise XMediaError(
                f"Unsupported Content-Type {content_type or '(none)'!r}: send multipart/form-data "
                "or application/json.",
                parameter="Content-Type", value=content_type,
            )  # fmt: skip
        try:
            unknown = sorted(form.names() - V2_APPEND_FIELDS)
            if unknown:
                raise XMediaError.invalid(unknown[0], None, "unknown field (additionalProperties: false)")
            if "media" not in form.files:
                raise XMediaError.missing("media")
            if "segment_index" not in form.fields:
                raise XMediaError.missing("segment_index")
            index = self.store.check_segment_index(form.fields["segment_index"])
            media = self.store.append(media_id, index, form.files["media"])
        finally:
            form.discard()
        return json_response({"data": {"expires_at": int(media.expires_at)}})

    async def _read_json_append(self, request: Request) -> ReceivedForm:
        """A JSON append as a form: ``media`` base64-decoded to a temp file, the rest as text."""
        limit = base64_length(self.config.max_segment_bytes) + SMALL_FIELD_LIMIT
        try:
            body = await read_json(request, limit)
        except BodyError as exc:
            raise XMediaError(
                f"{exc}; a segment may be at most {self.config.max_segment_bytes} bytes.", parameter="media"
            ) from exc
        if not isinstance(body, dict):
            raise XMediaError("The request body must be a JSON object.")
        form = ReceivedForm()
        for name, value in body.items():
            if name == "media":
                if not isinstance(value, str):
                    raise XMediaError.invalid("media", None, "must be a base64 string")
                form.files["media"] = self.context.storage.spool_bytes(decode_base64(value, "media"))
            else:
                # Kept as JSON text so check_segment_index sees "1.5" or "true", not a coerced int.
                form.fields[name] = value if isinstance(value, str) else json.dumps(value)
        return form

    @x_endpoint(V2, UPLOAD_BUCKET)
    async def v2_finalize(self, request: Request) -> Response:
        media = await self.store.finalize(request.path_params["id"])
        return json_response({"data": self._v2_media_data(media, finalize=True)})

    @x_endpoint(V2, STATUS_BUCKET)
    async def v2_status(self, request: Request) -> Response:
        query = request.query_params
        unknown = sorted(set(query) - V2_STATUS_QUERY)
        if unknown:
            raise XMediaError.invalid(unknown[0], query[unknown[0]], "unknown query parameter")
        command = query.get("command")
        if command is not None and command != "STATUS":
            raise XMediaError.invalid("command", command, "must be STATUS")
        media_id = query.get("media_id")
        if not media_id:
            raise XMediaError.missing("media_id")
        if not ID_PATTERN.match(media_id):
            raise XMediaError.invalid("media_id", media_id, "must match ^[0-9]{1,19}$")
        media = self.store.get_finalized(media_id)
        return json_response({"data": self._v2_media_data(media, finalize=False)})

    def _v2_media_data(self, media: XMedia, finalize: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": media.id,
            "media_key": media.media_key,
            "size": media.size,
            "expires_after_secs": media.expires_after_secs(),
        }
        info = self._processing_info(media, finalize)
        if info is not None:
            data["processing_info"] = info
        data.update(self.store.media_details(media))
        return data

    def _processing_info(self, media: XMedia, finalize: bool) -> dict[str, Any] | None:
        """FINALIZE always answers ``pending`` for processed media; STATUS follows the clock.

        STATUS of media that needs no processing says ``succeeded`` so pollers always get a state.
        """
        if not media.needs_processing:
            return None if finalize else {"state": "succeeded", "progress_percent": 100}
        if finalize:
            return {"state": "pending", "check_after_secs": self.config.check_after_secs}
        return self.store.processing_info(media)

    # -- v1.1 -----------------------------------------------------------------------------------

    @x_endpoint(V11)
    async def v11_upload(self, request: Request) -> Response:
        params = dict(request.query_params)
        form = ReceivedForm()
        if request.method == "POST":
            form = await self._read_v11_form(request)
        try:
            params.update(form.fields)
            command = params.get("command")
            request.scope[STATS_KEY] = f"{request.method} {V11_PATH} {command or '-'}"
            if not command:
                raise XMediaError.missing("command")
            if request.method == "GET":
                if command != "STATUS":
                    raise XMediaError.invalid("command", command, "GET supports only STATUS")
                return self._v11_status(params)
            if command == "INIT":
                return self._v11_init(params)
            if command == "APPEND":
                return self._v11_append(params, form)
            if command == "FINALIZE":
                return await self._v11_finalize(params)
            raise XMediaError.invalid("command", command, "must be INIT, APPEND or FINALIZE (POST) or STATUS (GET)")
        finally:
            form.discard()

    async def _read_v11_form(self, request: Request) -> ReceivedForm:
        content_type = media_type_of(request)
        if request.state.form_fields is not None:
            return ReceivedForm(fields=dict(request.state.form_fields))
        if content_type == "multipart/form-data":
            # Both parts spool; each is checked against its own limit once media_id is known.
            limit = base64_length(self.config.max_segment_bytes) + SMALL_FIELD_LIMIT
            return await read_multipart(request, self.context.storage, {"media", "media_data"}, limit)
        if content_type:
            raise XMediaError(
                f"Unsupported Content-Type {content_type!r}: send multipart/form-data "
                "or application/x-www-form-urlencoded."
            )
        return ReceivedForm()

    def _v11_init(self, params: dict[str, str]) -> Response:
        total_bytes = v11_int(params, "total_bytes")
        media_type = params.get("media_type")
        if not media_type:
            raise XMediaError.missing("media_type")
        owners = [o.strip() for o in params.get("additional_owners", "").split(",") if o.strip()]
        shared = params.get("shared", "false").lower()
        if shared not in ("true", "false"):
            raise XMediaError.invalid("shared", shared, "must be true or false")
        media = self.store.initialize(
            media_type=media_type,
            media_category=params.get("media_category") or None,
            total_bytes=total_bytes,
            shared=shared == "true",
            additional_owners=owners,
            processing_needs_category=True,
        )
        return json_response(
            {
                "media_id": int(media.id),
                "media_id_string": media.id,
                "media_key": media.media_key,
                "expires_after_secs": media.expires_after_secs(),
            },
            202,
        )

    def _v11_append(self, params: dict[str, str], form: ReceivedForm) -> Response:
        media_id = v11_media_id(params)
        if "segment_index" not in params:
            raise XMediaError.missing("segment_index")
        index = self.store.check_segment_index(params["segment_index"])
        if "media" in form.files:
            spool = form.files["media"]
        elif "media_data" in form.files or "media_data" in params:
            spool = self._v11_media_data(form, params)
        else:
            raise XMediaError.missing("media")
        self.store.append(media_id, index, spool)
        return Response(status_code=204)

    def _v11_media_data(self, form: ReceivedForm, params: dict[str, str]) -> Any:
        """Decode base64 ``media_data`` (one segment, so holding it in memory is fine)."""
        spooled = form.files.pop("media_data", None)
        if spooled is not None:
            spooled.close()
            if spooled.overflowed:
                raise XMediaError(
                    f"media_data exceeds the {self.config.max_segment_bytes} byte segment limit.",
                    parameter="media_data",
                )
            encoded = spooled.path.read_bytes().decode("ascii", "replace")
            spooled.discard()
        else:
            encoded = params["media_data"]
        spool = self.context.storage.spool_bytes(decode_base64(encoded, "media_data"))
        form.files["media"] = spool  # so form.discard() cleans it up if append fails
        return spool

    async def _v11_finalize(self, params: dict[str, str]) -> Response:
        media = await self.store.finalize(v11_media_id(params), sync_size_limit=V11_SYNC_VIDEO_LIMIT)
        body = self._v11_media_body(media)
        if media.needs_processing:
            body["processing_info"] = {"state": "pending", "check_after_secs": self.config.check_after_secs}
        body.update(self.store.media_details(media))
        return json_response(body, 201)

    def _v11_status(self, params: dict[str, str]) -> Response:
        media = self.store.get_finalized(v11_media_id(params))
        body = self._v11_media_body(media)
        body["processing_info"] = self._processing_info(media, finalize=False)
        body.update(self.store.media_details(media))
        return json_response(body)

    @staticmethod
    def _v11_media_body(media: XMedia) -> dict[str, Any]:
        return {
            "media_id": int(media.id),
            "media_id_string": media.id,
            "media_key": media.media_key,
            "size": media.size,
            "expires_after_secs": media.expires_after_secs(),
        }


def v11_int(params: dict[str, str], name: str) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        raise XMediaError.missing(name)
    if not raw.strip().isdigit():
        raise XMediaError.invalid(name, raw, "must be a non-negative integer")
    return int(raw)


def v11_media_id(params: dict[str, str]) -> str:
    media_id = params.get("media_id")
    if not media_id:
        raise XMediaError.missing("media_id")
    if not ID_PATTERN.match(media_id):
        raise XMediaError.invalid("media_id", media_id, "must match ^[0-9]{1,19}$")
    return media_id


def decode_base64(value: str, parameter: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise XMediaError.invalid(parameter, None, f"not valid base64 ({exc})") from exc
