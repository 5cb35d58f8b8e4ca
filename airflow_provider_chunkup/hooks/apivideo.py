"""Airflow hook for api.video uploads on a ``chunkup_apivideo`` connection.

Connection fields:

- password: the API key (production and sandbox keys differ).
- host: empty for production (``ws.api.video``), or set extra ``environment=sandbox``; a URL such as
  ``http://127.0.0.1:8787`` points at the local emulator.
- extra: ``auth`` (``basic``, the default, or ``bearer`` for the ``/auth/api-key`` token flow),
  ``upload_mode`` (``part`` or ``bytes``), ``upload_token`` (a delegated upload token: chunks go
  to ``/upload`` and no container is created; the API key is then optional), ``until``
  (``playable`` or ``encoded``), ``chunk_size``, ``max_in_flight``, ``timeout``, ``retry_*``,
  ``allow_insecure_http``.

The Airflow UI's Test button calls :meth:`ApiVideoHook.test_connection`: one authenticated request that
changes nothing on api.video.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ChunkupError,
    ConfigurationError,
    MalformedResponse,
    RemoteRejected,
    RetryExhausted,
)
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import (
    ConnectionOptions,
    base_url,
    cannot_reach,
    require_safe_transport,
    scrub,
)
from airflow_provider_chunkup.protocols.apivideo import (
    HINTS,
    MODES,
    PART,
    PLAYABLE,
    PRODUCTION,
    SANDBOX,
    UNTIL,
    ApiVideoBearerAuth,
    ApiVideoUpload,
)
from airflow_provider_chunkup.protocols.http import NOT_THE_API, json_object
from airflow_provider_chunkup.protocols.retry import RetryPolicy

ENVIRONMENTS = {"production": PRODUCTION, "sandbox": SANDBOX}
AUTH_KINDS = ("basic", "bearer")
#: A well-formed videoId ("vi" + 22 letters and digits) no video has: test_connection reads it.
PROBE_VIDEO_ID = "vi0chunkupConnectionTest"
KEY_HINT = ("Check the API key in the connection's password: production and sandbox keys differ (a sandbox key "
            "needs extra environment=sandbox).")


def _mask(secret: str) -> None:
    """Mask a secret obtained at run time (api.video access tokens) in task logs."""
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class ApiVideoHook(ChunkUploadHook):
    """Uploads videos to api.video in chunks, several parts at a time.

    ```python
    result = ApiVideoHook().upload("/data/clip.mp4", options={"title": "Launch", "tags": ["promo"]})
    result.media_id, result.details["assets"]["player"]
    ```

    :param apivideo_conn_id: a ``chunkup_apivideo`` connection (default ``chunkup_apivideo_default``).
    """

    api: ClassVar[str] = "apivideo"
    conn_name_attr = "apivideo_conn_id"
    default_conn_name = "chunkup_apivideo_default"
    conn_type = "chunkup_apivideo"
    hook_name = "chunkup: api.video"
    default_max_in_flight: ClassVar[int] = 3

    def __init__(self, apivideo_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=apivideo_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> ApiVideoUpload:
        environment = options.get_str("environment", "production") or "production"
        if environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: environment must be production or sandbox, got {environment!r}."
            )
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, ENVIRONMENTS[environment])
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        mode = options.get_str("upload_mode", PART) or PART
        until = options.get_str("until", PLAYABLE) or PLAYABLE
        for name, value, allowed in (("upload_mode", mode, MODES), ("until", until, UNTIL)):
            if value not in allowed:
                raise ConfigurationError(
                    f"Connection {self.conn_id!r}: {name} must be one of {', '.join(allowed)}, got {value!r}."
                )
        upload_token = options.get_str("upload_token")
        return ApiVideoUpload(
            auth=self._auth(conn, options, upload_token), base_url=url, mode=mode, upload_token=upload_token,
            until=until, retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 300.0) or 300.0, transport=transport,
        )

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with one request that changes nothing (the Airflow UI's Test button).

        - API key with ``auth=basic``: ``GET /videos/{videoId}`` of a video that does not exist;
          api.video authenticates before it looks the video up, so its 404 means the key works.
        - API key with ``auth=bearer``: the token exchange, ``POST /auth/api-key``.
        - API key and ``upload_token``: ``GET /upload-tokens/{token}``, which checks both (with
          bearer the exchange comes first, as for any request).
        - ``upload_token`` alone: ``POST /upload?token=`` without a file, refused with 400 (no file)
          once the token passed and before any video exists (the emulator's order; api.video's spec
          does not say, and without a key nothing can read the token).

        Returns ``(ok, message)``; the message never holds the key or the token.
        """
        try:
            protocol = self.get_conn()
        except ChunkupError as e:
            return False, self._scrub(str(e))
        protocol.client.retry = RetryPolicy(max_attempts=1)  # the Test button waits: answer, don't retry
        where = self._where(protocol)
        try:
            ok, message = run_sync(self._using(protocol, lambda _: self._probe(protocol, where)))
        except AuthenticationFailed as e:
            ok, message = False, str(e)
        except RetryExhausted as e:
            if e.status is not None:  # a 5xx through every attempt
                ok, message = False, str(e)
            else:  # the request never got an answer
                ok, message = False, cannot_reach(f"api.video at {protocol.client.base_url}", e,
                                                  " (empty host: production, or extra environment=sandbox)")
        except RemoteRejected as e:  # neither the credentials nor what the probe expects: not api.video's answer?
            ok, message = False, _unexpected(e, where)
        except ChunkupError as e:
            ok, message = False, str(e)
        if not protocol.upload_token:  # the key is the only credential to check
            message = message.replace(HINTS[401], KEY_HINT)
        return ok, self._scrub(message)

    async def _probe(self, protocol: ApiVideoUpload, where: str) -> tuple[bool, str]:
        assert self._conn is not None
        client = protocol.client
        token = protocol.upload_token
        kind = self.options.get_str("auth", "basic") or "basic"
        if token and self._conn.password:
            step = "api.video connection test (GET /upload-tokens/{upload_token})"
            try:
                response = await client.request("GET", f"/upload-tokens/{token}", step=step)
            except RemoteRejected as e:
                if e.status != 404 or not _apivideo_problem(e.body, "resource-not-found"):
                    raise
                return False, (
                    f"The API key works ({kind}), but api.video ({where}) has no upload token like the one in the "
                    "extra upload_token (HTTP 404): it was deleted or expired, or it belongs to another account or "
                    "environment (production and sandbox differ). Create one (POST /upload-tokens) and put it in "
                    "upload_token, or remove upload_token to upload with the API key."
                )
            expires = json_object(response, step).get("expiresAt")
            return True, (f"Authenticated to api.video ({where}) with the API key ({kind}); the delegated upload token "
                          f"exists ({f'expires {expires}' if expires else 'no expiry'}).")
        if token:
            step = "api.video connection test (POST /upload?token= without a file)"
            try:
                response = await client.request("POST", "/upload", params={"token": token}, step=step)
            except AuthenticationFailed as e:
                said = f" ({e.body['title'].rstrip('.')})" if isinstance(e.body, dict) and e.body.get("title") else ""
                return False, (
                    f"api.video ({where}) refused the delegated upload token with HTTP {e.status}{said}. Check the "
                    "extra upload_token: it may have been deleted, have expired (its ttl), or belong to another "
                    "account or environment (production and sandbox differ)."
                )
            except RemoteRejected as e:
                if e.status != 400 or not _apivideo_problem(e.body):
                    raise
                return True, (
                    f"Authenticated to api.video ({where}) with the delegated upload token: api.video took the token "
                    f"and refused an upload without a file (HTTP 400 {_problem_kind(e.body)}), so nothing was "
                    "created. Without an API key chunkup cannot ask for an upload's status: no resume, no sensor."
                )
            return False, (f"{where} accepted an api.video upload without a file (HTTP {response.status_code}), which "
                           f"api.video refuses. {NOT_THE_API}")
        if kind == "bearer":
            step = "api.video connection test (POST /auth/api-key)"
            try:
                response = await client.request("POST", "/auth/api-key", json={"apiKey": self._conn.password},
                                                auth=None, step=step)
            except RemoteRejected as e:
                if e.status not in (400, 401, 403):
                    raise
                message = str(e)
                if e.status != 401:  # api.video answers a wrong key here with 400; its error adds the hint to 401s
                    message = f"{message.rstrip('.')}. {HINTS[401]}"
                return False, message
            if not json_object(response, step).get("access_token"):
                raise MalformedResponse(f"{step} answered without an access_token. {NOT_THE_API}",
                                        status=response.status_code)
            return True, f"Authenticated to api.video ({where}) with the API key (bearer: /auth/api-key gave a token)."
        step = f"api.video connection test (GET /videos/{PROBE_VIDEO_ID})"
        try:
            await client.request("GET", f"/videos/{PROBE_VIDEO_ID}", step=step)
        except RemoteRejected as e:
            if e.status != 404 or not _apivideo_problem(e.body, "resource-not-found"):
                raise
        return True, f"Authenticated to api.video ({where}) with the API key (basic)."

    def _where(self, protocol: ApiVideoUpload) -> str:
        """The environment for api.video's own hosts, else the host the connection points at."""
        url = protocol.client.base_url.rstrip("/")
        named = {address: name for name, address in ENVIRONMENTS.items()}
        return named.get(url, url)

    def _scrub(self, message: str) -> str:
        """The message without the connection's secrets (a server may echo them back)."""
        return scrub(message, self._conn.password if self._conn is not None else None,
                     self._options.get_str("upload_token") if self._options is not None else None)

    def _auth(self, conn: Connection, options: ConnectionOptions, upload_token: str | None) -> httpx.Auth | None:
        kind = options.get_str("auth", "basic") or "basic"
        if kind not in AUTH_KINDS:
            raise ConfigurationError(f"Connection {self.conn_id!r}: auth must be basic or bearer, got {kind!r}.")
        if not conn.password:
            if upload_token:
                return None  # token uploads need no key; status and resume then cannot be asked
            raise ConfigurationError(
                f"Connection {self.conn_id!r} has no password: put the api.video API key there (or a delegated "
                "upload token in the extra upload_token)."
            )
        if kind == "bearer":
            return ApiVideoBearerAuth(conn.password, on_token=_mask)
        return httpx.BasicAuth(conn.password, "")


def _apivideo_problem(body: Any, kind: str | None = None) -> bool:
    """Whether ``body`` is api.video's problem document (of ``kind``): the answer is api.video's, not a proxy's.

    Its ``type`` links to api.video's docs (``https://docs.api.video/reference/resource-not-found``).
    """
    if not isinstance(body, dict) or "docs.api.video/" not in str(body.get("type") or ""):
        return False
    return kind is None or _letters(_problem_kind(body)) == _letters(kind)


def _problem_kind(body: Any) -> str:
    return str(body.get("type") or "").rstrip("/").rsplit("/", 1)[-1] if isinstance(body, dict) else ""


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _unexpected(error: RemoteRejected, where: str) -> str:
    """A refusal test_connection did not expect, without the hints meant for uploads."""
    body = error.body
    if _apivideo_problem(body):
        said = f"{str(body.get('title') or '').rstrip('.')} ({_problem_kind(body)})"
        return (f"api.video ({where}) answered the connection test with HTTP {error.status}: {said}. Check the "
                "connection's host: empty for api.video, or a base URL without a path (the emulator's).")
    excerpt = (body if isinstance(body, str) else json.dumps(body))[:200]
    return (f"{where} answered the connection test with HTTP {error.status}, not as api.video does: {excerpt!r}. "
            f"{NOT_THE_API}")
