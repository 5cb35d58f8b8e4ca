"""List the files under a prefix, for ``ChunkedUploadOperator.partial(...).expand(source=...)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from airflow_provider_chunkup.hooks.sources.listing import empty_prefix, list_sources


class ListSourcesOperator(BaseOperator):
    """Return (XCom) the URLs of the non-empty files under ``prefix``, sorted, to map uploads over.

    Each URL is one mapped task: Airflow refuses more than ``[core] max_map_length`` (1024 by default).

    :param prefix: a folder URL such as ``s3://media/batch/``, or a local directory. Templated.
    :param source_conn_id: the connection to list (and later read) with, e.g. an ``aws``-style one. Templated.
    :param suffixes: keep only names with these endings (``[".mp4", ".mov"]``), case-insensitive.
    :param storage_options: fsspec options on top of the connection's.
    :param allow_empty: when nothing is there, return ``[]`` (the mapped uploads are skipped) instead of
        failing. Off by default: an empty fan-out usually means a wrong prefix or bucket, and a green
        run would hide it.
    """

    template_fields: Sequence[str] = ("prefix", "source_conn_id")
    ui_color = "#e8f8f5"

    def __init__(self, *, prefix: str, source_conn_id: str | None = None, suffixes: Sequence[str] | None = None,
                 storage_options: Mapping[str, Any] | None = None, allow_empty: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix
        self.source_conn_id = source_conn_id
        self.suffixes = suffixes
        self.storage_options = storage_options
        self.allow_empty = allow_empty

    def execute(self, context: Context) -> list[str]:
        urls = list_sources(self.prefix, self.source_conn_id or None, storage_options=self.storage_options,
                            suffixes=self.suffixes)
        if not urls and not self.allow_empty:
            raise empty_prefix(self.prefix, self.source_conn_id)
        self.log.info("%d files under %s%s", len(urls), self.prefix,
                      ": nothing to upload, the uploads are skipped" if not urls else "")
        return urls
