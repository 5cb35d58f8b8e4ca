"""Airflow hook for Instagram Reels on a ``chunkup_instagram`` connection.

Connection fields:

- host: the Graph base URL; empty for ``https://graph.facebook.com``. The rupload URL comes from Graph's answer
  (``rupload.facebook.com``; the emulator serves Graph and rupload paths on one host).
- password: an Instagram user access token (Facebook Login for Business) with ``instagram_content_publish``.
- extra: ``ig_user_id`` (the professional account's id, required), ``graph_version`` (default ``v23.0``),
  ``chunk_size`` (default 16 MiB), ``max_chunk_size``, ``timeout``, ``retry_*``, ``allow_insecure_http``.

The container's fields come from the operators' ``upload_options``
(``{"media_type": "REELS", "caption": "...", "share_to_feed": true}``). Publishing is a separate step:
:meth:`InstagramHook.publish` once the sensor saw the container FINISHED.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import AuthenticationFailed, ChunkupError, RemoteRejected, RetryExhausted
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import (
    ConnectionOptions,
    base_url,
    cannot_reach,
    require_safe_transport,
    scrub,
)
from airflow_provider_chunkup.protocols.instagram import InstagramReelsUpload
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.rupload import DEFAULT_BASE, DEFAULT_CHUNK, DEFAULT_VERSION, MAX_CHUNK


def graph_settings(conn_id: str, conn: Connection, options: ConnectionOptions,
                   transport: httpx.AsyncBaseTransport | None) -> dict[str, Any]:
    """The keyword arguments every rupload protocol takes, read from a Meta connection."""
    url = base_url(conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE)
    require_safe_transport(conn_id, url, options.get_bool("allow_insecure_http"))
    max_chunk = options.get_int("max_chunk_size", MAX_CHUNK) or MAX_CHUNK
    return {"api_base": url, "token": conn.password or "",
            "graph_version": options.get_str("graph_version", DEFAULT_VERSION) or DEFAULT_VERSION,
            "default_chunk_bytes": min(DEFAULT_CHUNK, max_chunk), "max_chunk_bytes": max_chunk,
            "retry": RetryPolicy.from_options(options.retry_options()),
            "timeout": options.get_float("timeout", 120.0) or 120.0, "transport": transport}


def probe_graph(hook: ChunkUploadHook, platform: str, node: str) -> tuple[bool, str]:
    """Read ``node``'s id with the token: Graph checks the token first (190), then whether the node is there.

    Creates nothing. Returns ``(ok, message)``, the token scrubbed from it.
    """
    secret: str | None = None
    try:
        protocol = hook.get_conn()
        secret = hook._conn.password if hook._conn is not None else None
    except ChunkupError as e:
        return False, scrub(str(e), secret)
    protocol.client.retry = RetryPolicy(max_attempts=1)  # the Test button waits: answer, don't retry
    where = protocol.client.base_url
    path = f"/{getattr(protocol, 'version', DEFAULT_VERSION)}/{node}"

    async def read(_: object) -> None:
        await protocol.client.request("GET", path, params={"fields": "id"}, step=f"{platform} connection test "
                                                                                   f"(GET {path})")

    try:
        run_sync(hook._using(protocol, read))
    except AuthenticationFailed as e:
        return False, scrub(str(e), secret)
    except RemoteRejected as e:
        error = e.body.get("error") if isinstance(e.body, dict) else None
        if isinstance(error, dict) and error.get("code") == 100:
            return True, (f"Authenticated to {platform} at {where}: the token works, but Graph does not show node "
                          f"{node} to it ({error.get('message')}); check the id.")
        return False, scrub(str(e), secret)
    except RetryExhausted as e:
        if e.status is not None:
            return False, scrub(str(e), secret)
        return False, scrub(cannot_reach(f"{platform} at {where}", e), secret)
    except ChunkupError as e:
        return False, scrub(str(e), secret)
    return True, f"Authenticated to {platform} at {where}: the token reads node {node} (nothing was created)."


class InstagramHook(ChunkUploadHook):
    """Uploads Reels (or Stories) to an Instagram professional account over rupload, then publishes them.

    ```python
    hook = InstagramHook()
    result = hook.upload("/data/reel.mp4", options={"caption": "Launch day", "share_to_feed": True})
    # ... the processing sensor waits for FINISHED ...
    hook.publish(result.media_id)  # {"id": <IG media id>, ...}
    ```

    :param instagram_conn_id: a ``chunkup_instagram`` connection (default ``chunkup_instagram_default``).
    """

    api: ClassVar[str] = "instagram"
    conn_name_attr = "instagram_conn_id"
    default_conn_name = "chunkup_instagram_default"
    conn_type = "chunkup_instagram"
    hook_name = "chunkup: Instagram Reels"

    def __init__(self, instagram_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=instagram_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> InstagramReelsUpload:
        return InstagramReelsUpload(ig_user_id=options.get_str("ig_user_id") or "",
                                    **graph_settings(self.conn_id, conn, options, transport))

    def publish(self, container_id: str) -> dict[str, Any]:
        """Publish a FINISHED container (``media_publish``); one already PUBLISHED is not published twice.

        Returns ``{"id": <IG media id or None when already published>, "container_id", "already_published"}``.
        """
        protocol = self.get_conn()
        assert isinstance(protocol, InstagramReelsUpload)
        return run_sync(self._using(protocol, lambda p: protocol.publish(container_id)))

    def test_connection(self) -> tuple[bool, str]:
        """Read the Instagram user's id with the token; creates nothing."""
        try:
            node = self.options.get_str("ig_user_id") or "me"
        except ChunkupError as e:
            return False, str(e)
        return probe_graph(self, "Instagram", node)
