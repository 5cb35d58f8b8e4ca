"""fsspec storage options for a source, from an Airflow connection (``source_conn_id``).

The chunk reader (``airflow_provider_chunkup/sources.py``) knows nothing of Airflow; this package turns a
connection into the options its filesystem takes, by the source's scheme: S3 and HTTP(S) here, Azure Blob in
``azure.py`` and GCS in ``gcs.py`` (imported only when a source of their scheme is read). The amazon provider
is not needed: an ``aws``-style connection (key and secret in login/password or extra, ``region_name``,
``endpoint_url`` for S3-compatible stores such as MinIO or Ceph) is read directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import BaseHook, Connection
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.connection import undefined_connection

S3_SCHEMES = ("s3", "s3a")
HTTP_SCHEMES = ("http", "https")


def scheme_of(source: Any) -> str:
    text = str(source)
    return text.split("://", 1)[0].lower() if "://" in text else "file"


def carries_connection(source: Any) -> bool:
    """Whether ``source`` names its own Airflow connection: an ``ObjectStoragePath`` with a ``conn_id``, or
    its string form ``scheme://conn_id@bucket/key`` (not for http(s), where ``user@`` is a login)."""
    if getattr(source, "conn_id", None) and hasattr(source, "fs"):
        return True
    if not isinstance(source, str) or "://" not in source:
        return False
    scheme, rest = source.split("://", 1)
    return scheme.lower() not in (*HTTP_SCHEMES, "file", "local", "memory") and "@" in rest.split("/", 1)[0]


def readable(source: Any) -> Any:
    """``source`` as the chunk reader should open it: the ``scheme://conn_id@bucket/key`` form becomes an
    Airflow ``ObjectStoragePath``, whose filesystem the provider of that scheme builds from the connection."""
    if not (isinstance(source, str) and carries_connection(source)):
        return source
    from airflow.sdk import ObjectStoragePath

    try:
        path = ObjectStoragePath(source)
        path.fs  # noqa: B018 - the provider builds the filesystem here, or says it cannot
        return path
    except ValueError as e:
        scheme = scheme_of(source)
        raise ConfigurationError(
            f"Source {source} names an Airflow connection, but no installed provider serves {scheme}:// paths "
            f"({e}). Install the provider for it (for s3://: airflow-provider-chunkup[amazon]), or pass the URL "
            "without 'conn_id@' and the connection as source_conn_id."
        ) from e


async def storage_options_for(source: Any, source_conn_id: str | None,
                              explicit: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The options to open ``source`` with: from ``source_conn_id``, then ``explicit`` on top."""
    options: dict[str, Any] = {}
    if carries_connection(source):
        if source_conn_id:
            raise ConfigurationError(
                f"Source {source} already names its connection; source_conn_id={source_conn_id!r} would be a "
                "second one. Give the connection once: in the path, or as source_conn_id."
            )
        return dict(explicit or {})
    if source_conn_id:
        scheme = scheme_of(source)
        build = BUILDERS.get(scheme)
        if build is None:
            raise ConfigurationError(
                f"source_conn_id={source_conn_id!r} was given for a {scheme}:// source, but chunkup reads "
                f"connections only for {', '.join(sorted(BUILDERS))} sources. Pass storage_options instead, or "
                "an ObjectStoragePath with its conn_id."
            )
        try:
            conn = await BaseHook.aget_connection(source_conn_id)
        except AirflowNotFoundException:
            raise undefined_connection(source_conn_id, f"source_conn_id, to read {scheme}:// sources") from None
        options = build(conn, await conn.aextra_dejson())
    return {**options, **dict(explicit or {})}


def storage_options(source: Any, source_conn_id: str | None,
                    explicit: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Synchronous :func:`storage_options_for`, for task code that writes or reads a source itself."""
    from airflow_provider_chunkup._aio import run_sync

    return run_sync(storage_options_for(source, source_conn_id, explicit))


def _s3(conn: Connection, extra: Mapping[str, Any]) -> dict[str, Any]:
    key = conn.login or extra.get("aws_access_key_id")
    secret = conn.password or extra.get("aws_secret_access_key")
    client_kwargs: dict[str, Any] = {}
    endpoint = (extra.get("service_config", {}).get("s3", {}).get("endpoint_url") or extra.get("endpoint_url")
                or conn.host or None)
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    if extra.get("region_name"):
        client_kwargs["region_name"] = extra["region_name"]
    options: dict[str, Any] = {"client_kwargs": client_kwargs}
    if key and secret:
        options.update(key=key, secret=secret)
        if extra.get("aws_session_token"):
            options["token"] = extra["aws_session_token"]
    elif extra.get("anon"):
        options["anon"] = True
    return options


def _http(conn: Connection, extra: Mapping[str, Any]) -> dict[str, Any]:
    """Basic auth from login/password, or a bearer token in the password alone; extra ``headers``."""
    headers = dict(extra.get("headers") or {})
    if conn.login and conn.password:
        import aiohttp

        return {"headers": headers, "client_kwargs": {"auth": aiohttp.BasicAuth(conn.login, conn.password)}}
    if conn.password:
        headers["Authorization"] = f"Bearer {conn.password}"
    return {"headers": headers}


def _lazy(module: str, name: str) -> Callable[[Connection, Mapping[str, Any]], dict[str, Any]]:
    """A builder living in its own module, imported only when a source of that scheme is read."""

    def build(conn: Connection, extra: Mapping[str, Any]) -> dict[str, Any]:
        import importlib

        return getattr(importlib.import_module(module), name)(conn, extra)

    return build


BUILDERS: dict[str, Callable[[Connection, Mapping[str, Any]], dict[str, Any]]] = {
    **dict.fromkeys(S3_SCHEMES, _s3),
    **dict.fromkeys(HTTP_SCHEMES, _http),
    **dict.fromkeys(("az", "abfs", "abfss"), _lazy("airflow_provider_chunkup.hooks.sources.azure", "azure_options")),
    **dict.fromkeys(("gs", "gcs"), _lazy("airflow_provider_chunkup.hooks.sources.gcs", "gcs_options")),
}
