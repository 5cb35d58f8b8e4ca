"""Every file under a prefix (``s3://bucket/dir/``, ``gs://``, ``az://``, a local directory), for a fan-out.

The listing goes through the same connection (``source_conn_id``) and fsspec filesystem the uploads
read with, so what is listed can be read. Names only: nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from airflow_provider_chunkup.errors import ConfigurationError, SourceError
from airflow_provider_chunkup.hooks import sources
from airflow_provider_chunkup.sources import redact_url, source_failure


def list_sources(prefix: str, source_conn_id: str | None = None, *,
                 storage_options: Mapping[str, Any] | None = None,
                 suffixes: Iterable[str] | None = None) -> list[str]:
    """The URLs of the non-empty files under ``prefix`` (recursively), sorted.

    Zero-byte objects (folder markers, files still being created) are left out: there is nothing to upload.

    :param prefix: a "directory" URL such as ``s3://media/batch/`` (a single object's URL lists itself).
    :param source_conn_id: the connection to list and read with (an ``aws``-style connection for S3...).
    :param storage_options: fsspec options on top of the connection's.
    :param suffixes: keep only names ending in one of these (``[".mp4", ".mov"]``), case-insensitive.
    """
    if not isinstance(prefix, str) or not prefix.strip():
        raise ConfigurationError(f"prefix={prefix!r} is empty. Pass the URL of a folder, e.g. s3://media/batch/.")
    prefix = prefix.strip()
    options = sources.storage_options(prefix, source_conn_id or None, storage_options)
    shown = redact_url(prefix)
    try:
        fs, path = fsspec.core.url_to_fs(prefix, **options)
    except (ValueError, ImportError) as e:
        raise ConfigurationError(f"No filesystem for {shown} ({e}). Install the fsspec implementation for its "
                                 "scheme (s3fs, adlfs, gcsfs) or check the URL.") from e
    try:
        found = fs.find(path, detail=True)
    except Exception as e:
        raise source_failure(shown, e, "opening", local=isinstance(fs, LocalFileSystem)) from e
    wanted = tuple(s.lower() for s in suffixes or ())
    urls = []
    for name, info in found.items():
        if info.get("type") == "directory" or not info.get("size") or name.endswith("/"):
            continue
        if wanted and not name.lower().endswith(wanted):
            continue
        urls.append(fs.unstrip_protocol(name))
    return sorted(urls)


def empty_prefix(prefix: str, source_conn_id: str | None) -> SourceError:
    """The error for a prefix with nothing to upload."""
    return SourceError(
        f"There is no non-empty file under {redact_url(prefix)}"
        f"{f' (read with connection {source_conn_id!r})' if source_conn_id else ''}. Check the prefix and that "
        "the connection may list that bucket, or set allow_empty=True when an empty prefix is normal (the "
        "uploads are then skipped)."
    )
