"""The Meta front door (``MetaEmulator``): Graph video start/transfer/finish, Page Reels and Instagram rupload.

Graph paths start with a version (``/v23.0/...``), rupload's with ``/ig-api-upload/`` or ``/video-upload/``:

- ``POST /{ver}/{page-id}/videos`` and ``/{ver}/act_{id}/advideos`` (form, urlencoded or multipart; token in the form
  or the query): ``upload_phase`` ``start`` (``file_size`` -> session, video id and the first window, as strings),
  ``transfer`` (``video_file_chunk`` = bytes ``[start_offset, end_offset)`` -> the next window; a wrong one is 6001
  / 1363037 with the window to resend in ``error_data``), ``finish`` (1363045 unless every byte arrived).
- ``POST /{ver}/{page-id}/video_reels``: ``start`` -> ``video_id`` and ``upload_url`` (rupload); ``finish`` with
  ``video_state``. ``POST /{ver}/{ig-user-id}/media`` (``upload_type=resumable``) -> ``id`` and ``uri`` (rupload);
  ``POST /{ver}/{ig-user-id}/media_publish?creation_id=`` once ``FINISHED``.
- rupload ``POST``: ``Authorization: OAuth <token>``, ``offset`` (= bytes held: ``bytes_transferred``),
  ``file_size``, raw body; what arrives of a broken body is kept.
- ``GET /{ver}/{id}?fields=``: a video's ``status`` or a container's ``status_code``, ``status``, ``video_status``.

Every Graph answer carries ``X-App-Usage`` (``call_count`` in percent of ``meta.rate_limit``), and with Page
throttling (``rate_limit_code`` 32) ``X-Business-Use-Case-Usage`` for the path's node; past the limit, the
throttling error of ``meta.rate_limit_code``. Sources: ``/work/shared/api/meta-tiktok-linkedin.md`` (1, 3).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.api import EmulatedApi, RequestHead
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded, json_object
from ..core.fault_target import QUERY
from ..core.forms import BodyError, ReceivedForm, media_type_of, read_multipart, read_urlencoded
from ..core.ratelimit import RateLimitState
from ..core.stats import STATS_KEY
from ..core.storage import COPY_BLOCK_BYTES
from .config import MIN_FILE_SIZE, MetaEmulatorConfig
from .errors import PARTIAL, SIZE_LARGE, SIZE_MISMATCH, SIZE_SMALL, TRANSIENT, UPLOAD_FAILED, GraphError
from .routes import VERSION, VersionedRoute
from .videos import MEDIA_TYPES, PROCESSING_FAULT, VIDEO_STATES, Container, MediaFile, MetaStore, Video, next_id, trim

CONTROL = f"{PREFIX}/meta"
#: Fault kinds: processing that ends in error, and transfers answered with an upload error.
TRANSIENT_FAULT, WRONG_OFFSET_FAULT, SESSION_LOST_FAULT = "meta_transient", "meta_wrong_offset", "meta_session_lost"
#: What ``POST /_emulator/meta/transfer-faults`` may queue, and the kind each is counted as.
FORCED = {"transient": TRANSIENT_FAULT, "partial": TRANSIENT_FAULT, "wrong_offset": WRONG_OFFSET_FAULT,
          "session_lost": SESSION_LOST_FAULT}  # fmt: skip
RUPLOAD_PREFIXES = ("/ig-api-upload/", "/video-upload/")
GRAPH_PATH = re.compile(rf"^/{VERSION}/")
RUPLOAD_PATH = re.compile(rf"^/(?:ig-api-upload|video-upload)/{VERSION}/[^/]+$")
PHASED_PATH = re.compile(rf"^/{VERSION}/[^/]+/(?:videos|advideos|video_reels)$")
CHUNK_FIELD = "video_file_chunk"
STAT_NAMES = ("meta_windows_served", "meta_wrong_offsets", "meta_broken_bodies", "meta_finished", "meta_published")
_MULTIPART_PHASE = re.compile(rb'name="?upload_phase"?[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([a-z]+)\r\n')
_FORM_PHASE = re.compile(rb"(?:^|&)upload_phase=([a-z]+)&")

Handler = Callable[["MetaEmulator", Request, dict[str, str], ReceivedForm], Awaitable[Response]]
Endpoint = Callable[["MetaEmulator", Request], Awaitable[Response]]


def json_answer(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json")


def rupload_error(status: int, kind: str, message: str, retriable: bool = False) -> Response:
    """rupload's failure body: ``{"debug_info": {"retriable", "type", "message"}}``."""
    return json_answer({"debug_info": {"retriable": retriable, "type": kind, "message": message}}, status)


def not_allowed(method: str, allowed: tuple[str, ...]) -> Response:
    response = GraphError.invalid(f"Unsupported {method} request: use {', '.join(allowed)}.").response()
    response.headers["Allow"] = ", ".join(allowed)
    return response


def graph_endpoint(handler: Handler) -> Endpoint:
    """The parameters (query, then the form over it), the token, the rate limit; ``GraphError`` as Graph answers."""

    async def endpoint(self: MetaEmulator, request: Request) -> Response:
        form = ReceivedForm()
        try:
            params, form = await self.read_params(request)
            self.authenticate(params.get("access_token"), request.headers.get("authorization"))
        except GraphError as exc:
            form.discard()
            return self._finish(exc.response(), self._rate(take=False), request)
        rate = self._rate(take=True)
        if not rate.allowed:
            form.discard()
            return self._finish(GraphError.throttled(self.config.rate_limit_code).response(), rate, request)
        try:
            response = await handler(self, request, params, form)
        except GraphError as exc:
            response = exc.response()
        finally:
            form.discard()
        return self._finish(response, rate, request)

    endpoint.__name__ = handler.__name__
    return endpoint


class MetaEmulator(EmulatedApi):
    """Meta (Graph video, Reels rupload)."""

    name = "meta"
    title = "Meta (Graph video, Reels rupload)"
    config_type = MetaEmulatorConfig
    #: Drawn with ``roll``, counted in ``GET /_emulator/faults``.
    fault_kinds = (PROCESSING_FAULT, TRANSIENT_FAULT, WRONG_OFFSET_FAULT, SESSION_LOST_FAULT)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.store = MetaStore(lambda: self.config, context.faults.roll, context.storage.root / "meta")
        #: Answers the next transfers give, in order (``POST /_emulator/meta/transfer-faults``).
        self.forced: list[str] = []
        #: rupload ids a request is writing (a second one at the same time is refused).
        self.writing: set[str] = set()

    @property
    def config(self) -> MetaEmulatorConfig:
        return self.context.config.meta

    def routes(self) -> list[BaseRoute]:
        def graph(path: str, handler: Endpoint, methods: tuple[str, ...]) -> VersionedRoute:
            async def endpoint(request: Request) -> Response:
                return await handler(self, request)

            return VersionedRoute(path, endpoint, methods, not_allowed)

        return [
            graph("/{ver}/{node}/videos", MetaEmulator.phased, ("POST",)),
            graph("/{ver}/{node}/advideos", MetaEmulator.phased, ("POST",)),
            graph("/{ver}/{node}/video_reels", MetaEmulator.reels, ("POST",)),
            graph("/{ver}/{node}/media", MetaEmulator.ig_media, ("POST",)),
            graph("/{ver}/{node}/media_publish", MetaEmulator.ig_publish, ("POST",)),
            graph("/{ver}/{object_id}", MetaEmulator.get_object, ("GET",)),
            VersionedRoute("/ig-api-upload/{ver}/{object_id}", self.rupload, ("POST",), not_allowed),
            VersionedRoute("/video-upload/{ver}/{object_id}", self.rupload, ("POST",), not_allowed),
        ]

    def control_routes(self) -> list[BaseRoute]:
        def known(exc: Exception) -> tuple[int, str] | None:
            return (404, str(exc.args[0])) if isinstance(exc, KeyError) else None

        def route(path: str, handler: ControlHandler, method: str = "GET") -> Route:
            return Route(CONTROL + path, guarded(handler, known), methods=[method])

        async def videos(_: Request) -> Response:
            return JSONResponse({"videos": [v.inspect() for v in self.store.videos.values()]})

        async def video(request: Request) -> Response:
            vid = request.path_params["video_id"]
            if vid not in self.store.videos:
                raise KeyError(f"no video {vid!r}")
            return JSONResponse(self.store.videos[vid].inspect())

        async def containers(_: Request) -> Response:
            return JSONResponse({"containers": [c.inspect() for c in self.store.containers.values()]})

        async def container(request: Request) -> Response:
            cid = request.path_params["container_id"]
            if cid not in self.store.containers:
                raise KeyError(f"no container {cid!r}")
            return JSONResponse(self.store.containers[cid].inspect())

        async def force(request: Request) -> Response:
            answers = (await json_object(request)).get("answers")
            if not isinstance(answers, list) or not all(a in FORCED for a in answers):
                raise ValueError(f"answers must be a list of {', '.join(FORCED)}")
            self.forced.extend(answers)
            return JSONResponse({"pending": self.forced})

        return [
            route("/videos", videos), route("/videos/{video_id}", video),
            route("/containers", containers), route("/containers/{container_id}", container),
            route("/transfer-faults", force, "POST"),
        ]  # fmt: skip

    def reset(self) -> None:
        self.store.forget_all()
        self.forced.clear()
        self.writing.clear()

    def stats(self) -> dict[str, int]:
        return {"meta_videos": len(self.store.videos), "meta_containers": len(self.store.containers),
                **{name: self.store.counts.get(name, 0) for name in STAT_NAMES}}  # fmt: skip

    # -- fault injection and rate limits ----------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: MetaEmulatorConfig) -> list[str]:
        return [rf"POST /{VERSION}/[^/?]+/(?:videos|advideos){QUERY} transfer",
                rf"POST /(?:ig-api-upload|video-upload)/{VERSION}/[^/?]+{QUERY}"]  # fmt: skip

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """Graph's throttling error (HTTP 400, ``meta.rate_limit_code``) with ``X-App-Usage`` at 100."""
        if not (GRAPH_PATH.match(path) or RUPLOAD_PATH.match(path)):
            return None
        response = GraphError.throttled(self.config.rate_limit_code).response()
        response.headers["X-App-Usage"] = usage(100)
        return response

    async def request_command(self, method: str, path: str, query: str, body: RequestHead) -> str | None:
        """``upload_phase`` of a POST on a phased path, from the query or the body's first bytes."""
        if method != "POST" or not PHASED_PATH.match(path):
            return None
        phase = parse_qs(query).get("upload_phase")
        if phase:
            return phase[0]
        head = await body.peek(64 * 1024, lambda h, complete: _body_phase(h, complete))
        return _body_phase(head, body.complete)

    def _rate(self, take: bool) -> RateLimitState:
        config = self.config
        count = self.context.limiter.take if take else self.context.limiter.peek
        return count("meta.graph", config.rate_limit, config.rate_limit_window_secs)

    def _finish(self, response: Response, rate: RateLimitState, request: Request) -> Response:
        """``X-App-Usage`` on every answer; with Page throttling (32), ``X-Business-Use-Case-Usage`` for the node."""
        used = rate.limit - rate.remaining
        percent = 100 if rate.limit == 0 else min(100, 100 * used // rate.limit)
        response.headers["X-App-Usage"] = usage(percent)
        node = request.path_params.get("node")
        if self.config.rate_limit_code == 32 and node:
            regain = int(max(0.0, rate.reset - time.time()) // 60) if percent >= 100 else 0
            entry = {"type": "pages", "call_count": percent, "total_cputime": 0, "total_time": 0,
                     "estimated_time_to_regain_access": regain}  # fmt: skip
            response.headers["X-Business-Use-Case-Usage"] = json.dumps({node: [entry]})
        return response

    # -- requests ---------------------------------------------------------------------------------

    async def read_params(self, request: Request) -> tuple[dict[str, str], ReceivedForm]:
        """The query's parameters with the form's over them; a multipart ``video_file_chunk`` spooled to disk."""
        params = dict(request.query_params)
        form = ReceivedForm()
        if request.method != "POST":
            return params, form
        kind = media_type_of(request)
        try:
            if kind == "multipart/form-data":
                form = await read_multipart(request, self.context.storage, {CHUNK_FIELD})
                params.update(form.fields)
            elif kind in ("application/x-www-form-urlencoded", ""):
                params.update(await read_urlencoded(request))
            else:
                raise GraphError.invalid(f"The body must be a form (urlencoded or multipart), not {kind!r}.")
        except BodyError as exc:
            raise GraphError.invalid(str(exc)) from None
        return params, form

    def authenticate(self, token: str | None, header: str | None) -> None:
        if not token and header:
            scheme, _, value = header.strip().partition(" ")
            token = value.strip() if scheme.lower() in ("oauth", "bearer") else None
        if not token:
            raise GraphError.token("An active access token must be used: send access_token in the form or query.")
        if token not in self.config.tokens:
            raise GraphError.token("Invalid OAuth access token - Cannot parse access token.")

    @staticmethod
    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    # -- Graph video: start / transfer / finish ---------------------------------------------------

    @graph_endpoint
    async def phased(self, request: Request, params: dict[str, str], form: ReceivedForm) -> Response:
        phase = params.get("upload_phase")
        route = getattr(request.scope.get("route"), "path", request.url.path)
        request.scope[STATS_KEY] = f"POST {route} {phase or '-'}"  # each phase counted apart, as with faults
        if phase == "start":
            return self.start(request, params)
        if phase == "transfer":
            return await self.transfer(params, form)
        if phase == "finish":
            return self.finish_video(params)
        raise GraphError.invalid(f"upload_phase must be start, transfer or finish (got {phase!r}); the emulator "
                                 "takes videos only through resumable upload sessions.")  # fmt: skip

    def start(self, request: Request, params: dict[str, str]) -> Response:
        size = _int_param(params, "file_size")
        config = self.config
        if size < MIN_FILE_SIZE:
            raise GraphError(UPLOAD_FAILED, f"The video file is too small: {size} bytes (at least {MIN_FILE_SIZE}).",
                             SIZE_SMALL, user_msg="The video file you tried to upload is too small.")  # fmt: skip
        if size > config.max_file_size:
            raise GraphError(UPLOAD_FAILED, f"The video file is too large: {size} bytes (at most "
                             f"{config.max_file_size}).", SIZE_LARGE,
                             user_msg="The video file you tried to upload is too large.")  # fmt: skip
        node = request.path_params["node"]
        self._permitted(node)
        vid = next_id(10**15)
        kind = "advideo" if request.url.path.endswith("/advideos") else "page"
        video = Video(id=vid, kind=kind, parent=node, media=self.store.new_media(vid), file_size=size,
                      session_id=next_id(2 * 10**15))  # fmt: skip
        self._serve_window(video, 0)
        self.store.videos[vid] = video
        self.store.sessions[video.session_id] = video
        start, end = video.window
        return json_answer({"upload_session_id": video.session_id, "video_id": vid, "start_offset": str(start),
                            "end_offset": str(end)})  # fmt: skip

    def _permitted(self, node: str) -> None:
        if self.config.nodes and node not in self.config.nodes:
            raise GraphError.no_permission(node)

    def _serve_window(self, video: Video, start: int) -> None:
        assert video.file_size is not None
        end = min(start + self.config.window(len(video.windows)), video.file_size)
        video.window = (start, end)
        if start < end:
            video.windows.append([start, end])
            self.store.count("meta_windows_served")

    def _session(self, params: dict[str, str]) -> Video:
        session_id = params.get("upload_session_id")
        if not session_id:
            raise GraphError.invalid("upload_session_id is required (the start phase's answer gave it).")
        video = self.store.sessions.get(session_id)
        if video is None:
            raise GraphError.invalid(f"Invalid upload_session_id {session_id!r}: no such upload session.")
        idle = self.config.session_idle_secs
        if not video.finished and idle is not None and time.time() >= video.active_at + idle:
            video.lost = True
        if video.lost:
            raise GraphError.session_lost()
        return video

    def _injected(self, video: Video) -> GraphError | None:
        """A fault this transfer answers instead of taking its bytes: queued first, then drawn from the rates."""
        if self.forced:
            answer = self.forced.pop(0)
            self.context.faults.roll(1.0, FORCED[answer])
        else:
            config, roll = self.config, self.context.faults.roll
            answer = next((name for name, rate, kind in (
                ("session_lost", config.session_lost_rate, SESSION_LOST_FAULT),
                ("transient", config.transient_rate, TRANSIENT_FAULT),
                ("wrong_offset", config.wrong_offset_rate, WRONG_OFFSET_FAULT)) if roll(rate, kind)), None)  # fmt: skip
        if answer == "session_lost":
            video.lost = True
            return GraphError.session_lost()
        if answer in ("transient", "partial"):
            return GraphError.transient(PARTIAL if answer == "partial" else TRANSIENT)
        if answer == "wrong_offset":
            self.store.count("meta_wrong_offsets")
            return GraphError.wrong_offset(*video.window, why="the emulator asks for this window again")
        return None

    async def transfer(self, params: dict[str, str], form: ReceivedForm) -> Response:
        video = self._session(params)
        chunk = form.files.get(CHUNK_FIELD)
        if chunk is None:
            raise GraphError.invalid(f"The transfer phase needs the file part {CHUNK_FIELD!r} (multipart).")
        offset = _int_param(params, "start_offset")
        fault = self._injected(video)
        if fault is not None:
            raise fault
        start, end = video.window
        if offset != start or chunk.size != end - start:
            self.store.count("meta_wrong_offsets")
            why = (
                f"start_offset {offset} is not the window's start {start}"
                if offset != start
                else f"the chunk has {chunk.size} bytes where the window [{start}, {end}) needs {end - start}"
            )
            raise GraphError.wrong_offset(start, end, why)
        if start < end:
            await asyncio.to_thread(video.media.append_file, chunk.path)
            video.transfers += 1
            video.active_at = time.time()
            self._serve_window(video, end)
        start, end = video.window
        return json_answer({"start_offset": str(start), "end_offset": str(end)})

    def finish_video(self, params: dict[str, str]) -> Response:
        video = self._session(params)
        if not video.uploaded:
            raise GraphError(UPLOAD_FAILED, f"The video's bytes ({video.media.size}) are not the file_size "
                             f"({video.file_size}) the start phase announced.", SIZE_MISMATCH,
                             user_msg="The upload is incomplete: send every window before finish.")  # fmt: skip
        if not video.finished:
            video.finished = True
            video.fields.update({k: params[k] for k in ("title", "description", "published") if k in params})
            self.store.start_processing(video.processing)
            self.store.count("meta_finished")
        return json_answer({"success": True})

    # -- Facebook Page Reels ----------------------------------------------------------------------

    @graph_endpoint
    async def reels(self, request: Request, params: dict[str, str], form: ReceivedForm) -> Response:
        phase = params.get("upload_phase")
        if phase == "start":
            node = request.path_params["node"]
            self._permitted(node)
            vid = next_id(10**15)
            self.store.videos[vid] = Video(id=vid, kind="reel", parent=node, media=self.store.new_media(vid),
                                           file_size=None)  # fmt: skip
            ver = request.path_params["ver"]
            return json_answer({"video_id": vid, "upload_url": f"{self.base(request)}/video-upload/{ver}/{vid}"})
        if phase != "finish":
            raise GraphError.invalid(f"upload_phase must be start or finish (got {phase!r}).")
        vid = params.get("video_id", "")
        video = self.store.videos.get(vid)
        if video is None or video.kind != "reel":
            raise GraphError.invalid(f"video_id {vid!r} is not a reel this Page started.")
        state = params.get("video_state")
        if state not in VIDEO_STATES:
            raise GraphError.invalid(f"video_state must be one of {', '.join(VIDEO_STATES)} (got {state!r}).")
        if state == "SCHEDULED" and not params.get("scheduled_publish_time"):
            raise GraphError.invalid("video_state SCHEDULED needs scheduled_publish_time.")
        if not video.uploaded:
            raise GraphError(UPLOAD_FAILED, f"The reel has {video.media.size} of {video.file_size or '?'} bytes: "
                             "upload the whole file to its upload_url first.", SIZE_MISMATCH)  # fmt: skip
        if not video.finished:
            video.finished = True
            video.fields.update({k: params[k] for k in ("description", "video_state", "title") if k in params})
            self.store.start_processing(video.processing)
            self.store.count("meta_finished")
        return json_answer({"success": True})

    # -- Instagram containers ---------------------------------------------------------------------

    @graph_endpoint
    async def ig_media(self, request: Request, params: dict[str, str], form: ReceivedForm) -> Response:
        media_type = params.get("media_type")
        if media_type not in MEDIA_TYPES:
            raise GraphError.invalid(f"media_type must be one of {', '.join(MEDIA_TYPES)} (got {media_type!r}).")
        if params.get("upload_type") != "resumable":
            raise GraphError.invalid("upload_type must be resumable (the emulator takes no video_url).")
        caption = params.get("caption", "")
        if len(caption) > self.config.max_caption_chars:
            raise GraphError.invalid(f"The caption has {len(caption)} characters (at most "
                                     f"{self.config.max_caption_chars}).")  # fmt: skip
        cid = next_id(17_000_000_000_000_000)
        self.store.containers[cid] = Container(
            id=cid, ig_user=request.path_params["node"], media_type=media_type, caption=caption,
            media=self.store.new_media(cid), expiry_secs=self.config.container_expiry_secs)  # fmt: skip
        ver = request.path_params["ver"]
        return json_answer({"id": cid, "uri": f"{self.base(request)}/ig-api-upload/{ver}/{cid}"})

    @graph_endpoint
    async def ig_publish(self, request: Request, params: dict[str, str], form: ReceivedForm) -> Response:
        cid = params.get("creation_id", "")
        container = self.store.containers.get(cid)
        if container is None or container.ig_user != request.path_params["node"]:
            raise GraphError.invalid(f"creation_id {cid!r} is not a container of this Instagram user.")
        code = container.status_code()
        if code == "PUBLISHED":
            return json_answer({"id": container.published_id})
        if code != "FINISHED":
            raise GraphError(9007, f"Media ID is not available: the container is {code}.", 2207027,
                             user_msg="The media is not ready for publishing, please wait for a moment.")  # fmt: skip
        container.published_id = next_id(18_000_000_000_000_000)
        self.store.count("meta_published")
        return json_answer({"id": container.published_id})

    # -- status -----------------------------------------------------------------------------------

    @graph_endpoint
    async def get_object(self, request: Request, params: dict[str, str], form: ReceivedForm) -> Response:
        oid = request.path_params["object_id"]
        fields = params.get("fields")
        if oid in self.store.videos:
            video = self.store.videos[oid]
            body = {"id": oid, "status": video.status(), **video.fields}
            return json_answer(trim(body, fields or "status"))
        if oid in self.store.containers:
            return json_answer(trim({"id": oid, **self.store.containers[oid].fields()}, fields or "status_code"))
        raise GraphError.unknown_object(oid)

    # -- rupload ----------------------------------------------------------------------------------

    async def rupload(self, request: Request) -> Response:
        """Bytes at ``offset`` (= those held) of ``file_size``; a broken body keeps what arrived."""
        try:
            self.authenticate(None, request.headers.get("authorization"))
        except GraphError as exc:
            return rupload_error(401, "AuthError", f"{exc.message} (send 'Authorization: OAuth <token>')")
        oid = request.path_params["object_id"]
        instagram = request.url.path.startswith("/ig-api-upload/")
        target: Video | Container | None = (self.store.containers.get(oid) if instagram else
                                            self.store.videos.get(oid))  # fmt: skip
        if target is None or (isinstance(target, Video) and target.kind != "reel"):
            return rupload_error(404, "NotFoundError", f"There is no upload {oid!r} here.")
        try:
            offset, size = int(request.headers["offset"]), int(request.headers["file_size"])
        except (KeyError, ValueError):
            return rupload_error(400, "BadRequestError", "The offset and file_size headers (integers) are required.")
        if size <= 0 or size > self.config.max_file_size:
            return rupload_error(400, "ProcessingFailedError", f"file_size {size} is out of bounds (1 to "
                                 f"{self.config.max_file_size}).")  # fmt: skip
        if target.file_size is not None and size != target.file_size:
            return rupload_error(400, "ProcessingFailedError", f"file_size {size} differs from the {target.file_size} "
                                 "of this upload's first request.")  # fmt: skip
        media = target.media
        if offset != media.size:
            return rupload_error(
                400,
                "ProcessingFailedError",
                f"offset {offset} is not the bytes held ({media.size}): resume from uploading_phase.bytes_transferred.",
                retriable=True,
            )
        length = request.headers.get("content-length", "")
        if length.isdigit() and offset + int(length) > size:
            return rupload_error(400, "ProcessingFailedError", f"The body's {length} bytes at offset {offset} run past "
                                 f"file_size {size}.")  # fmt: skip
        if oid in self.writing:
            return rupload_error(409, "ProcessingFailedError", "Another request is writing this upload: wait for it, "
                                 "then resume from uploading_phase.bytes_transferred.", retriable=True)  # fmt: skip
        target.file_size = size
        self.writing.add(oid)
        try:
            received = await self._receive(request, media, size - offset)
        finally:
            self.writing.discard(oid)
        if received is None:
            return rupload_error(400, "ProcessingFailedError", f"The body runs past file_size {size}.")
        if media.size == size and isinstance(target, Container) and target.processing.started_at is None:
            self.store.start_processing(target.processing)
        return json_answer({"success": True, "message": "Upload successful."})

    async def _receive(self, request: Request, media: MediaFile, room: int) -> int | None:
        """Append the body (at most ``room`` bytes; None past it, keeping ``room``); kept up to a break."""
        pending = bytearray()
        received = 0
        try:
            async for piece in request.stream():
                take = piece[: max(0, room - received)]
                received += len(piece)
                pending += take
                if len(pending) >= COPY_BLOCK_BYTES:
                    await asyncio.to_thread(media.append, bytes(pending))
                    pending = bytearray()
        except ClientDisconnect:
            if pending:
                await asyncio.to_thread(media.append, bytes(pending))
            self.store.count("meta_broken_bodies")
            raise
        if pending:
            await asyncio.to_thread(media.append, bytes(pending))
        return None if received > room else received


def usage(percent: int) -> str:
    """``X-App-Usage``: the app's share (percent) of its call, CPU and time budgets."""
    return json.dumps({"call_count": percent, "total_cputime": 0, "total_time": 0})


def _body_phase(head: bytes, complete: bool) -> str | None:
    found = _MULTIPART_PHASE.search(head) or _FORM_PHASE.search(head + b"&" if complete else head)
    return found.group(1).decode("ascii") if found else None


def _int_param(params: dict[str, str], name: str) -> int:
    value = params.get(name, "")
    if not value.strip().isdigit():
        raise GraphError.invalid(f"{name} must be a non-negative integer (got {value!r}).")
    return int(value)
