"""Which hook serves which API or connection type, so tasks after init need only the session."""

from __future__ import annotations

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.cloudflare_stream import CloudflareStreamHook
from airflow_provider_chunkup.hooks.connection import undefined_connection
from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook
from airflow_provider_chunkup.hooks.facebook import FacebookVideoHook
from airflow_provider_chunkup.hooks.facebook_reels import FacebookReelsHook
from airflow_provider_chunkup.hooks.gcs_destination import GcsDestinationHook
from airflow_provider_chunkup.hooks.instagram import InstagramHook
from airflow_provider_chunkup.hooks.linkedin import LinkedInHook
from airflow_provider_chunkup.hooks.tiktok import TikTokHook
from airflow_provider_chunkup.hooks.tus import TusUploadHook
from airflow_provider_chunkup.hooks.vimeo import VimeoUploadHook
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.hooks.youtube import YouTubeHook

HOOKS: tuple[type[ChunkUploadHook], ...] = (
    XMediaUploadHook, ApiVideoHook, ContentRangeUploadHook, TusUploadHook, VimeoUploadHook, CloudflareStreamHook,
    YouTubeHook, GcsDestinationHook, FacebookVideoHook, InstagramHook, FacebookReelsHook, TikTokHook, LinkedInHook,
)
BY_API = {hook.api: hook for hook in HOOKS}
BY_CONN_TYPE = {hook.conn_type: hook for hook in HOOKS}


def hook_for_api(api: str, conn_id: str | None = None) -> ChunkUploadHook:
    """The hook of ``api`` (as stored in an upload session) on ``conn_id``."""
    try:
        hook_class = BY_API[api]
    except KeyError:
        raise ConfigurationError(
            f"Unknown upload API {api!r} (known: {', '.join(sorted(BY_API))}): the session is not a chunkup session. "
            "Pass the XCom of the previous chunkup task unchanged."
        ) from None
    return hook_class(conn_id or hook_class.default_conn_name)


def hook_for_connection(conn_id: str) -> ChunkUploadHook:
    """The hook matching the type of connection ``conn_id``."""
    try:
        conn_type = BaseHook.get_connection(conn_id).conn_type
    except AirflowNotFoundException:
        raise undefined_connection(conn_id, "the upload API") from None
    try:
        hook_class = BY_CONN_TYPE[conn_type]
    except KeyError:
        raise ConfigurationError(
            f"Connection {conn_id!r} has type {conn_type!r}, which no chunkup hook serves. Use one of: "
            f"{', '.join(sorted(BY_CONN_TYPE))}."
        ) from None
    return hook_class(conn_id)
