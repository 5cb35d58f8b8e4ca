"""Airflow hook for X media upload (v2, or the legacy v1.1 flow) on a ``chunkup_x`` connection.

Connection fields:

- host: X's API host; empty means ``api.x.com`` (v2) or ``upload.twitter.com`` (v1.1). A URL such
  as ``http://127.0.0.1:8787`` points at the local emulator.
- OAuth 2.0 user context (``auth_type=oauth2_user``, the default): the user access token (scope
  ``media.write``) in the password.
- OAuth 1.0a user context (``auth_type=oauth1_user``): consumer (API) key in login, consumer secret
  in password, ``access_token`` and ``access_token_secret`` in the extra.
- extra: ``api_version`` (``v2`` or ``v1.1``), ``chunk_size``, ``max_in_flight``, ``timeout``,
  ``size_limits`` (JSON, bytes per ``image``/``gif``/``video``), ``retry_*``, ``allow_insecure_http``.
"""

from __future__ import annotations

from typing import ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import AuthenticationFailed, ChunkupError, ConfigurationError, RemoteRejected
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import (
    ConnectionOptions,
    base_url,
    require_safe_transport,
)
from airflow_provider_chunkup.protocols.auth import BearerAuth, OAuth1Auth
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.x import DEFAULT_BASE_URLS, DIALECTS, V2, XMediaUpload

AUTH_TYPES = ("oauth2_user", "oauth1_user")


class XMediaUploadHook(ChunkUploadHook):
    """Uploads media to X in chunks.

    :param x_conn_id: a ``chunkup_x`` connection (default ``chunkup_x_default``).

    >>> result = XMediaUploadHook().upload("/data/clip.mp4", media_category="tweet_video")
    >>> result.media_id, result.sha256
    """

    api: ClassVar[str] = "x"
    conn_name_attr = "x_conn_id"
    default_conn_name = "chunkup_x_default"
    conn_type = "chunkup_x"
    hook_name = "chunkup: X media upload"
    default_max_in_flight: ClassVar[int] = 3

    def __init__(self, x_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=x_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> XMediaUpload:
        dialect = options.get_str("api_version", V2) or V2
        if dialect not in DIALECTS:
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: api_version must be one of {', '.join(DIALECTS)}, "
                f"got {dialect!r}."
            )
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE_URLS[dialect])
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        size_limits = {k: int(v) for k, v in options.get_mapping("size_limits").items()}
        return XMediaUpload(
            auth=self._auth(conn, options), dialect=dialect, base_url=url, size_limits=size_limits,
            retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport,
        )

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with a STATUS call for a media id that cannot exist.

        X authenticates before it looks the media up: 401/403 means the credentials are wrong,
        a 4xx about the media means they work. Nothing is uploaded.
        """
        try:
            protocol = self.get_conn()
            protocol.client.retry = RetryPolicy(max_attempts=1)
            run_sync(self._using(protocol, lambda p: p.status("1")))
        except AuthenticationFailed as e:
            return False, str(e)
        except RemoteRejected as e:
            return True, f"Authenticated to X ({self.options.get_str('api_version', V2)}); probe answered {e.status}."
        except ChunkupError as e:
            return False, str(e)
        return True, f"Authenticated to X ({self.options.get_str('api_version', V2)})."

    def _auth(self, conn: Connection, options: ConnectionOptions) -> httpx.Auth:
        token = options.get_str("access_token")
        token_secret = options.get_str("access_token_secret")
        auth_type = options.get_str("auth_type") or ("oauth1_user" if token_secret else "oauth2_user")
        if auth_type not in AUTH_TYPES:
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: auth_type must be one of {', '.join(AUTH_TYPES)}, "
                f"got {auth_type!r}."
            )
        if auth_type == "oauth2_user":
            if not conn.password:
                raise ConfigurationError(
                    f"Connection {self.conn_id!r} has no password: put the OAuth 2.0 user access token "
                    "(scope media.write) in the password, or set auth_type=oauth1_user with OAuth 1.0a keys."
                )
            return BearerAuth(conn.password)
        missing = [name for name, value in (("login (consumer key)", conn.login),
                                            ("password (consumer secret)", conn.password),
                                            ("extra access_token", token),
                                            ("extra access_token_secret", token_secret)) if not value]
        if missing:
            raise ConfigurationError(
                f"Connection {self.conn_id!r} uses OAuth 1.0a but lacks {', '.join(missing)}. Set all four: "
                "consumer key and secret from the X app, access token and secret of the user."
            )
        return OAuth1Auth(conn.login, conn.password, token, token_secret)  # type: ignore[arg-type]
