"""The "Uploaded media" button on a finished upload task in the Airflow UI.

In Airflow 3 the worker asks every link of a task for its URL when the task ends, and stores the
answer in XCom (key ``_link_UploadedMediaLink``); the API server reads that XCom for the UI and never
runs this code. So :meth:`UploadedMediaLink.get_link` only reads the URL the operator worked out from
its result (an attribute): no connection, no XCom, no request, and it never raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

URL_ATTRIBUTE = "uploaded_media_url"
"""Where the operators keep the link they computed from the upload's result."""

POST_URL_ATTRIBUTE = "published_post_url"
"""Where :class:`~airflow_provider_chunkup.operators.x_post.XCreatePostOperator` keeps its post's URL."""


class _AttributeLink(BaseOperatorLink):
    """A link whose URL the operator worked out while it ran and kept in the attribute :attr:`attribute`."""

    attribute: ClassVar[str]

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        try:
            url: Any = getattr(operator, self.attribute, None)
            return url if isinstance(url, str) else ""
        except Exception:  # a link must never fail the task's end
            return ""


class UploadedMediaLink(_AttributeLink):
    """The uploaded media's page: api.video's player, the emulator's inspection page, a site's media URL.

    Empty (a greyed-out button) when the task failed, or the platform has no page for the media
    (X's own API: see :func:`airflow_provider_chunkup.protocols.links.media_url`).
    """

    name = "Uploaded media"
    attribute = URL_ATTRIBUTE


class PublishedPostLink(_AttributeLink):
    """The X post the task published (on the emulator, its inspection page). Empty until it exists."""

    name = "Post on X"
    attribute = POST_URL_ATTRIBUTE
