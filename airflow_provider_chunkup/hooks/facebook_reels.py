"""Airflow hook for Facebook Page Reels on a ``chunkup_facebook_reels`` connection.

Connection fields:

- host: the Graph base URL; empty for ``https://graph.facebook.com`` (the rupload URL comes from Graph's answer).
- password: a Page access token with ``pages_manage_posts``, ``pages_read_engagement`` and ``pages_show_list``.
- extra: ``page_id`` (required), ``graph_version`` (default ``v23.0``), ``chunk_size`` (default 16 MiB),
  ``max_chunk_size``, ``timeout``, ``retry_*``, ``allow_insecure_http``.

Its own connection type rather than Instagram's: a Page Reel needs a *Page* token and a Page id, Instagram a user
token (Facebook Login for Business) and an IG user id. The finish's fields come from ``upload_options``
(``{"video_state": "PUBLISHED", "description": "..."}``); ``{"publish": false}`` leaves the finish to
:meth:`FacebookReelsHook.publish`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import ChunkupError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions
from airflow_provider_chunkup.hooks.instagram import graph_settings, probe_graph
from airflow_provider_chunkup.protocols.facebook_reels import FacebookReelsUpload


class FacebookReelsHook(ChunkUploadHook):
    """Uploads Reels to a Facebook Page over rupload; finalize's finish publishes (or drafts, or schedules) them.

    ```python
    result = FacebookReelsHook().upload("/data/reel.mp4", options={"video_state": "DRAFT", "description": "Hi"})
    ```

    :param facebook_reels_conn_id: a ``chunkup_facebook_reels`` connection (default
        ``chunkup_facebook_reels_default``).
    """

    api: ClassVar[str] = "facebook_reels"
    conn_name_attr = "facebook_reels_conn_id"
    default_conn_name = "chunkup_facebook_reels_default"
    conn_type = "chunkup_facebook_reels"
    hook_name = "chunkup: Facebook Reels"

    def __init__(self, facebook_reels_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=facebook_reels_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> FacebookReelsUpload:
        return FacebookReelsUpload(page_id=options.get_str("page_id") or "",
                                   **graph_settings(self.conn_id, conn, options, transport))

    def publish(self, video_id: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send the finish (``video_state``, ``description``...) of a Reel uploaded with ``publish: false``.

        Never twice: a Reel whose finish an earlier call sent answers ``{"finished": False}`` without a request.
        """
        protocol = self.get_conn()
        assert isinstance(protocol, FacebookReelsUpload)
        return run_sync(self._using(protocol, lambda p: protocol.publish(video_id, options)))

    def test_connection(self) -> tuple[bool, str]:
        """Read the Page's id with the token; creates nothing."""
        try:
            node = self.options.get_str("page_id") or "me"
        except ChunkupError as e:
            return False, str(e)
        return probe_graph(self, "Facebook Reels", node)
