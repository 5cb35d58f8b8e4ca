"""Airflow hook for tus 1.0.0 servers on a ``chunkup_tus`` connection.

Connection fields:

- host: the tus creation endpoint, e.g. ``https://tus.example.com/files/`` (required; the path is
  kept as written).
- password: an optional Bearer token. For other auth schemes, the ``headers`` extra (a JSON
  object) is sent with every request.
- extra: ``metadata`` (JSON object added to every upload's ``Upload-Metadata``, besides
  ``filename`` and ``filetype`` from the source), ``checksum`` (``sha1``, ``sha256``, ``md5`` or
  ``none``; default: ``sha1`` where the server announces the checksum extension), ``chunk_size``
  (default 8 MiB), ``max_chunk_size`` (default 1 GiB), ``max_in_flight`` (above 1: parallel partial
  uploads where the server announces concatenation), ``restart_expired``, ``timeout``, ``retry_*``,
  ``allow_insecure_http``.
- ``profile``: ``supabase`` for Supabase Storage's resumable endpoint: ``bucket`` (required),
  ``upsert`` (``x-upsert: true``), ``cache_control``; chunks of exactly 6 MiB; the object is named
  after the source's file unless the metadata names it (``objectName``).

The Airflow UI's Test button calls :meth:`TusUploadHook.test_connection`: an OPTIONS request, which
creates nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import ChunkupError, ConfigurationError, RemoteRejected, RetryExhausted
from airflow_provider_chunkup.hooks.base import ChunkUploadHook, SessionInput
from airflow_provider_chunkup.hooks.connection import (
    ConnectionOptions,
    base_url,
    cannot_reach,
    require_safe_transport,
    scrub,
)
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.base import Capabilities, UploadProtocol
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint
from airflow_provider_chunkup.protocols.chunking import MiB
from airflow_provider_chunkup.protocols.progress import ProgressCallback
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadResult, UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.split import session_list
from airflow_provider_chunkup.protocols.tus import CHECKSUMS, DEFAULT_CHUNK, MAX_CHUNK, TusUpload, server_facts
from airflow_provider_chunkup.sources import SourceLike

PROFILES = ("supabase",)
SUPABASE_CHUNK = 6 * MiB
"""Supabase Storage takes chunks of exactly 6 MiB, every one but the last."""
SUPABASE_PATH = "/storage/v1/upload/resumable"


class TusUploadHook(ChunkUploadHook):
    """Uploads files to any tus 1.0.0 server, resuming from the server's offset.

    ```python
    result = TusUploadHook("my_tus").upload("/data/clip.mp4")
    result.media_id, result.details["upload_url"]
    ```

    :param tus_conn_id: a ``chunkup_tus`` connection (default ``chunkup_tus_default``).
    """

    api: ClassVar[str] = "tus"
    conn_name_attr = "tus_conn_id"
    default_conn_name = "chunkup_tus_default"
    conn_type = "chunkup_tus"
    hook_name = "chunkup: tus resumable upload"

    def __init__(self, tus_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=tus_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> TusUpload:
        if not conn.host:
            raise ConfigurationError(
                f"Connection {self.conn_id!r} has no host: set the tus creation endpoint, e.g. "
                "https://tus.example.com/files/.")
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema if conn.schema in ("http", "https") else None,
                       "")
        if conn.host.rstrip().endswith("/"):
            url += "/"  # a creation URL may need its slash (resumable-upload redirects /files to /files/)
        headers = {str(k): str(v) for k, v in options.get_mapping("headers").items()}
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        checksum = options.get_str("checksum")
        if checksum is not None and checksum.lower() not in (*CHECKSUMS, "none"):
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: checksum must be one of {', '.join(CHECKSUMS)} or none, got "
                f"{checksum!r}.")
        max_chunk = options.get_int("max_chunk_size", MAX_CHUNK) or MAX_CHUNK
        profile = (options.get_str("profile") or "").strip().lower() or None
        settings: dict[str, Any] = {}
        metadata = options.get_mapping("metadata")
        if profile is None:
            for name in ("bucket", "upsert", "cache_control"):
                if options.raw(name) not in (None, "", False, "false"):  # the UI's form saves an unset box as false
                    raise ConfigurationError(
                        f"Connection {self.conn_id!r}: {name} is a setting of a service profile; set profile "
                        f"(one of {', '.join(PROFILES)}) or remove {name}.")
        elif profile == "supabase":
            url, headers, metadata, settings = self._supabase(url, headers, metadata, options)
        else:
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: profile must be one of {', '.join(PROFILES)} (or unset for a plain "
                f"tus server), got {options.get_str('profile')!r}.")
        return TusUpload(
            endpoint=url, auth=BearerAuth(conn.password) if conn.password else None, headers=headers,
            metadata=metadata, checksum=checksum.lower() if checksum else None,
            default_chunk_bytes=min(DEFAULT_CHUNK, max_chunk), max_chunk_bytes=max_chunk,
            retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport,
            max_in_flight=self.max_in_flight(), **settings,
        )

    def _supabase(self, url: str, headers: dict[str, str], metadata: dict[str, Any],
                  options: ConnectionOptions) -> tuple[str, dict[str, str], dict[str, Any], dict[str, Any]]:
        """Supabase Storage's resumable endpoint: its path, bucket, upsert and 6 MiB chunks (built on @tus/server:
        no concatenation, no checksum)."""
        for name in ("chunk_size", "max_chunk_size"):
            value = options.get_int(name)
            if value is not None and value != SUPABASE_CHUNK:
                raise ConfigurationError(
                    f"Connection {self.conn_id!r}: Supabase Storage takes chunks of exactly {SUPABASE_CHUNK} bytes "
                    f"(6 MiB), every one but the last; {name}={value} cannot be used. Remove {name} from the "
                    "connection (profile supabase sets it).")
        bucket = options.get_str("bucket") or metadata.get("bucketName")
        if not bucket:
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: profile supabase needs the bucket to upload to: set bucket (the "
                "Storage bucket's name) in the connection's extra.")
        if not urlsplit(url).path.strip("/"):  # the project's URL alone: Supabase's resumable endpoint on it
            url = url.rstrip("/") + SUPABASE_PATH
        metadata = {"bucketName": str(bucket), **metadata}
        cache_control = options.get_str("cache_control")
        if cache_control:
            metadata.setdefault("cacheControl", cache_control)
        if options.get_bool("upsert"):
            headers = {**headers, "x-upsert": "true"}
        return url, headers, metadata, {
            "concatenation": False, "exact_chunk_bytes": SUPABASE_CHUNK,
            "service": "Supabase Storage", "name_key": "objectName", "type_key": "contentType"}

    def session_capabilities(self, session: UploadSession | Mapping[str, Any] | str) -> Capabilities:
        """What this opened upload allows, without a request: one sent as partial uploads takes its segments in
        any order and several at a time (so it can be split over tasks); one sent in order does not."""
        record = UploadSession.from_dict(session)

        def read(protocol: UploadProtocol) -> Capabilities:
            return protocol.capabilities_of(record) if isinstance(protocol, TusUpload) else protocol.capabilities

        return self._inspect(read)

    async def afinalize(self, session: SessionInput, storage_options: Mapping[str, Any] | None = None,
                        checkpoint: Checkpoint | None = None) -> UploadResult:
        """:meth:`ChunkUploadHook.afinalize`; the sessions of split tasks first share the partial uploads each
        created (merging keeps one session's ``remote``, and each task knows only its own parts)."""
        sessions = session_list(session)
        if sessions is not None:
            records = [UploadSession.from_dict(s) for s in sessions if s is not None]
            parts: dict[str, str] = {}
            for record in records:
                parts.update(record.remote.get("parts") or {})
            if parts:
                for record in records:
                    record.remote["parts"] = dict(parts)
            session = [record.to_dict() for record in records]
        return await super().afinalize(session, storage_options, checkpoint)

    async def _append(self, protocol: UploadProtocol, session: UploadSession, *args: Any,
                      **kwargs: Any) -> UploadSession:
        if isinstance(protocol, TusUpload):  # an upload sent as partial uploads takes its segments in parallel
            protocol.adopt(session)
        return await super()._append(protocol, session, *args, **kwargs)

    async def _upload(self, protocol: UploadProtocol, source: SourceLike, spec: UploadSpec,
                      max_in_flight: int | None, progress: ProgressCallback | None,
                      storage_options: Mapping[str, Any] | None, checksum: bool,
                      checkpoint: Checkpoint | None = None, abort_on_failure: bool = True) -> UploadResult:
        # Whether init opens partial uploads is the connection's max_in_flight's choice (init, as a task of its
        # own, has no other): this call's only says how many go at once.
        earlier = checkpoint.session() if checkpoint is not None else None
        if isinstance(protocol, TusUpload) and earlier is not None and earlier.api == self.api:
            protocol.adopt(earlier)  # a resumed try goes on as it began
        return await super()._upload(protocol, source, spec, max_in_flight, progress, storage_options, checksum,
                                     checkpoint, abort_on_failure)

    def test_connection(self) -> tuple[bool, str]:
        """Ask the server what it supports (OPTIONS): proves it speaks tus, creates nothing.

        OPTIONS carries no credentials check on most servers, so a working Test button says the
        endpoint is a tus server, not that the token is accepted. Returns ``(ok, message)``.
        """
        try:
            protocol = self.get_conn()
        except ChunkupError as e:
            return False, self._scrub(str(e))
        protocol.client.retry = RetryPolicy(max_attempts=1)  # the Test button waits: answer, don't retry
        where = protocol.endpoint
        step = f"tus connection test (OPTIONS {where})"
        try:
            response = run_sync(self._using(protocol, lambda p: p.client.request("OPTIONS", where, step=step)))
        except RetryExhausted as e:
            if e.status is not None:
                return False, self._scrub(str(e))
            return False, self._scrub(cannot_reach(where, e))
        except (RemoteRejected, ChunkupError) as e:
            return False, self._scrub(str(e))
        facts = server_facts(response.headers)
        if "1.0.0" not in facts["versions"]:
            return False, self._scrub(
                f"{where} answered OPTIONS without Tus-Version 1.0.0 (got {facts['versions'] or 'none'}): it is not "
                "a tus 1.0.0 endpoint. Check the connection's host (the creation URL, e.g. .../files/).")
        extensions = ", ".join(facts["extensions"]) or "none"
        algorithms = ", ".join(facts["checksum_algorithms"]) or "none"
        return True, self._scrub(f"{where} speaks tus 1.0.0 (extensions: {extensions}; checksums: {algorithms}). "
                                 "Nothing was uploaded.")

    def _scrub(self, message: str) -> str:
        conn = self._conn
        secrets = [conn.password] if conn is not None else []
        if self._options is not None:
            secrets += [str(v) for v in self._options.get_mapping("headers").values()]
        return scrub(message, *secrets)
