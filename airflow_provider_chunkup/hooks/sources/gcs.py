"""gcsfs options for ``gs://`` / ``gcs://`` sources, from a Google-style Airflow connection.

The google provider is not needed: the extras a ``google_cloud_platform`` connection stores
(``keyfile_dict``, ``key_path``, ``project``, bare or with the old ``extra__google_cloud_platform__``
prefix) are read directly, plus ``endpoint_url`` (or the connection's host) for an emulator or a
GCS-compatible store and ``anon`` for public buckets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow.sdk import Connection

from airflow_provider_chunkup.errors import ConfigurationError

_PREFIX = "extra__google_cloud_platform__"
_UNSUPPORTED = ("key_secret_name", "credential_config_file")


def _field(extra: Mapping[str, Any], name: str) -> Any:
    value = extra.get(name)
    return value if value not in (None, "") else extra.get(_PREFIX + name) or None


def gcs_options(conn: Connection, extra: Mapping[str, Any]) -> dict[str, Any]:
    """``GCSFileSystem`` kwargs (``token``, ``project``, ``endpoint_url``) for ``conn``.

    ``token`` is the service-account key as a dict (``keyfile_dict``, a JSON string or a mapping), its
    file path (``key_path``), or ``"anon"`` (extra ``anon``); with none of them it is left out, and gcsfs
    finds Application Default Credentials as Airflow's google hooks do. With a custom endpoint,
    ``retry_timeout=0`` too: gcsfs 2026.3+ probes each bucket's type over the Storage Control gRPC API,
    which emulators lack, and would retry that probe for 60 s on every operation (one try, then plain HTTP).
    """
    keyfile, key_path = _field(extra, "keyfile_dict"), _field(extra, "key_path")
    if keyfile and key_path:
        raise ConfigurationError(
            f"Connection {conn.conn_id!r} sets both keyfile_dict and key_path; keep only one of them."
        )
    unsupported = [name for name in _UNSUPPORTED if _field(extra, name)]
    if unsupported and not (keyfile or key_path):
        raise ConfigurationError(
            f"Connection {conn.conn_id!r} uses {', '.join(unsupported)}, which chunkup does not read for gs:// "
            "sources. Put the key in keyfile_dict or key_path, or pass storage_options instead."
        )
    options: dict[str, Any] = {}
    if keyfile:
        if isinstance(keyfile, str):
            try:
                keyfile = json.loads(keyfile)
            except json.JSONDecodeError as e:
                raise ConfigurationError(
                    f"Connection {conn.conn_id!r}: keyfile_dict is not valid JSON ({e.msg})."
                ) from None
        if not isinstance(keyfile, Mapping):
            raise ConfigurationError(f"Connection {conn.conn_id!r}: keyfile_dict must be a JSON object.")
        options["token"] = dict(keyfile)
    elif key_path:
        options["token"] = str(key_path)
    elif extra.get("anon"):
        options["token"] = "anon"
    project = _field(extra, "project")
    if project:
        options["project"] = project
    endpoint = extra.get("endpoint_url") or conn.host or None
    if endpoint:
        if "://" not in endpoint:
            endpoint = f"http://{endpoint}{f':{conn.port}' if conn.port and ':' not in endpoint else ''}"
        options.update(endpoint_url=endpoint.rstrip("/"), retry_timeout=0.0)
    return options
