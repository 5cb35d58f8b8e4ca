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
"""

from __future__ import annotations

from typing import ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport
from airflow_provider_chunkup.protocols.apivideo import (
    MODES,
    PART,
    PLAYABLE,
    PRODUCTION,
    SANDBOX,
    UNTIL,
    ApiVideoBearerAuth,
    ApiVideoUpload,
)
from airflow_provider_chunkup.protocols.retry import RetryPolicy

ENVIRONMENTS = {"production": PRODUCTION, "sandbox": SANDBOX}
AUTH_KINDS = ("basic", "bearer")


def _mask(secret: str) -> None:
    """Mask a secret obtained at run time (api.video access tokens) in task logs."""
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class ApiVideoHook(ChunkUploadHook):
    """Uploads videos to api.video in chunks, several parts at a time.

    :param apivideo_conn_id: a ``chunkup_apivideo`` connection (default ``chunkup_apivideo_default``).

    >>> result = ApiVideoHook().upload("/data/clip.mp4", options={"title": "Launch", "tags": ["promo"]})
    >>> result.media_id, result.details["assets"]["player"]
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
