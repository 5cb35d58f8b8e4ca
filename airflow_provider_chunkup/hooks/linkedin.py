"""Airflow hook for LinkedIn video uploads on a ``chunkup_linkedin`` connection.

Connection fields:

- host: the API base URL; empty for ``https://api.linkedin.com`` (the emulator: ``http://127.0.0.1:PORT``).
- password: an access token with ``w_member_social`` (a member owner) or ``w_organization_social``.
- extra: ``owner`` (``urn:li:person:...`` or ``urn:li:organization:...``), ``linkedin_version`` (``YYYYMM``,
  default ``202610``), ``max_chunk_size`` (the largest part taken into memory, default 64 MiB: LinkedIn's parts
  are 4 MiB), ``max_in_flight`` (parts sent at once), ``restart_expired``, ``timeout``, ``retry_*``,
  ``allow_insecure_http``.

LinkedIn decides the parts at init; their signed upload URLs take bytes without a token, so they are masked in
task logs and the session holding them never goes to XCom: upload in one task (``ChunkedUploadOperator``), whose
retry resumes from the task state store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport
from airflow_provider_chunkup.hooks.probe import probe_missing_resource
from airflow_provider_chunkup.protocols.linkedin import (
    DEFAULT_BASE,
    DEFAULT_VERSION,
    MAX_PART,
    LinkedInUpload,
    post_page,
)
from airflow_provider_chunkup.protocols.retry import RetryPolicy

POST_RECORD = "chunkup.linkedin_post"
"""The task state store key where a post task notes when it began posting, then the post it made (so a retry
never posts twice)."""


def video_of(video: Any) -> tuple[str, str | None]:
    """The video URN and owner of a LinkedIn upload's result (an ``UploadResult``, its dict, or a URN)."""
    if hasattr(video, "to_dict"):
        video = video.to_dict()
    owner = None
    if isinstance(video, Mapping):
        if video.get("api") not in (None, "linkedin"):
            raise ConfigurationError(f"This is the result of a {video.get('api')} upload, not a LinkedIn one: a "
                                     "LinkedIn post carries a video uploaded to LinkedIn.")
        details = video.get("details")
        owner = details.get("owner") if isinstance(details, Mapping) else None
        video = video.get("media_id")
    if not isinstance(video, str) or not video.strip():
        raise ConfigurationError(f"A LinkedIn post's video is the upload's result or its URN, got {video!r}.")
    return video.strip(), owner if isinstance(owner, str) and owner else None


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class LinkedInHook(ChunkUploadHook):
    """Uploads videos to LinkedIn (Videos API); the sensor waits until the video is AVAILABLE.

    ```python
    result = LinkedInHook().upload("/data/clip.mp4", options={"owner": "urn:li:organization:2414183"})
    result.media_id  # urn:li:video:..., for a post through the Posts API
    ```

    :param linkedin_conn_id: a ``chunkup_linkedin`` connection (default ``chunkup_linkedin_default``).
    """

    api: ClassVar[str] = "linkedin"
    conn_name_attr = "linkedin_conn_id"
    default_conn_name = "chunkup_linkedin_default"
    conn_type = "chunkup_linkedin"
    hook_name = "chunkup: LinkedIn"
    default_max_in_flight: ClassVar[int] = 4

    def __init__(self, linkedin_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=linkedin_conn_id, **kwargs)


    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> LinkedInUpload:
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE)
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        return LinkedInUpload(
            api_base=url, token=conn.password or "", owner=options.get_str("owner") or None,
            version=options.get_str("linkedin_version") or DEFAULT_VERSION,
            max_part_bytes=options.get_int("max_chunk_size", MAX_PART) or MAX_PART,
            retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport, on_secret=_mask,
        )

    def test_connection(self) -> tuple[bool, str]:
        """Read a video that does not exist: LinkedIn checks the token and version first, so its 404 means both work.

        Creates nothing. Returns ``(ok, message)``; the message never holds the token.
        """
        return probe_missing_resource(self, "LinkedIn", "/videos/" + "urn%3Ali%3Avideo%3A0")

    async def acreate_post(self, video: Any, *, commentary: str, visibility: str = "PUBLIC",
                           title: str | None = None, feed: bool = True, author: str | None = None,
                           raw_commentary: bool = False, record_store: Any = None) -> dict[str, Any]:
        """Publish a post carrying an uploaded video once it is ``AVAILABLE`` (Posts API, ``POST /rest/posts``).

        ``video``: the upload's result (its owner is the post's author unless ``author`` is given) or a URN.
        ``commentary`` is escaped for little text format unless ``raw_commentary``. Everything LinkedIn would
        refuse in the request is refused before it. With a ``record_store`` (the task state store) the time of
        the attempt is noted before the request and the post as soon as LinkedIn answers: a retry of the same
        post returns the stored one without a request, and a retry after an attempt whose answer was lost
        looks for the post among the author's (:meth:`LinkedInUpload.find_post`) before posting.

        Returns ``{"post_urn", "url", "video_urn", "author", "commentary"}`` (``commentary`` as sent).
        """
        urn, owner = video_of(video)
        protocol = await self.aget_conn()
        assert isinstance(protocol, LinkedInUpload)
        body = protocol.post_body(urn, commentary=commentary, visibility=visibility, title=title, feed=feed,
                                  author=author or owner, raw_commentary=raw_commentary)
        identity = json.loads(json.dumps(body, sort_keys=True))
        earlier = record_store.get(POST_RECORD, None) if record_store is not None else None
        earlier = earlier if isinstance(earlier, Mapping) and earlier.get("identity") == identity else {}
        if earlier.get("post"):
            await protocol.client.aclose()
            self.log.info("Post %s was published by an earlier try; not posting again.", earlier["post"]["post_urn"])
            return dict(earlier["post"])
        attempt_at = earlier.get("attempt_at")
        attempt_at = float(attempt_at) if isinstance(attempt_at, int | float) else None
        if record_store is not None:
            record_store.set(POST_RECORD, {"identity": identity, "attempt_at": attempt_at or time.time()})

        async def publish() -> tuple[str, bool]:
            if attempt_at is not None and (found := await protocol.find_post(body["author"], urn, since=attempt_at)):
                return found, True
            return await protocol.send_post(body), False

        post_urn, recovered = await self._using(protocol, lambda _: publish())
        post = {"post_urn": post_urn, "url": post_page(post_urn, protocol.api_base), "video_urn": urn,
                "author": body["author"], "commentary": body["commentary"]}
        if record_store is not None:
            record_store.set(POST_RECORD, {"identity": identity, "post": post})
        if recovered:
            self.log.info("Found post %s, made by an earlier attempt whose answer was lost; not posting again.",
                          post_urn)
        else:
            self.log.info("Published LinkedIn post %s with video %s: %s", post_urn, urn, post["url"])
        return post

    def create_post(self, video: Any, *, commentary: str, visibility: str = "PUBLIC", title: str | None = None,
                    feed: bool = True, author: str | None = None, raw_commentary: bool = False,
                    record_store: Any = None) -> dict[str, Any]:
        """Synchronous :meth:`acreate_post`."""
        return run_sync(self.acreate_post(video, commentary=commentary, visibility=visibility, title=title,
                                          feed=feed, author=author, raw_commentary=raw_commentary,
                                          record_store=record_store))
