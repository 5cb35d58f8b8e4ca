"""adlfs options for ``az://`` / ``abfs://`` / ``abfss://`` sources, from an Azure-style Airflow connection.

The microsoft-azure provider is not needed: the fields a ``wasb`` connection stores are read directly,
bare or with the old ``extra__wasb__`` prefix. Login is the account name and password its key; or extra
``connection_string``, ``sas_token`` (a token, or a full URL carrying one), ``shared_access_key``; or a
service principal (``tenant_id`` in extra, login/password as client id/secret); or ``anon``. The endpoint
is extra ``account_url`` or the connection's host, e.g. Azurite's ``http://127.0.0.1:10000/devstoreaccount1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import Connection

from airflow_provider_chunkup.errors import ConfigurationError

_PREFIX = "extra__wasb__"


def _field(extra: Mapping[str, Any], name: str) -> Any:
    value = extra.get(name)
    return value if value not in (None, "") else extra.get(_PREFIX + name) or None


def _endpoint(conn: Connection, extra: Mapping[str, Any]) -> str | None:
    """The blob endpoint as a URL (``https://`` when no scheme is given), or None for the public one."""
    url = _field(extra, "account_url") or conn.host or None
    if not url:
        return None
    url = str(url).strip().rstrip("/")
    if "://" not in url:
        if "." not in url and ":" not in url:  # a bare account name, as Airflow's wasb hook accepts
            return None
        url = f"https://{url}"
    return url


def _account_from(endpoint: str | None) -> str | None:
    """The account name an endpoint names: its first host label, or its first path segment (path-style)."""
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    segment = parts.path.strip("/").split("/", 1)[0]
    if segment:
        return segment
    host = parts.hostname or ""
    return host.split(".", 1)[0] if ".blob." in host else None


def azure_options(conn: Connection, extra: Mapping[str, Any]) -> dict[str, Any]:
    """``AzureBlobFileSystem`` kwargs (``account_name``, ``account_key``, ``sas_token``, ``connection_string``...).

    A connection string is passed through as is. Otherwise an ``https`` endpoint becomes
    ``account_host``; adlfs reaches an ``account_host`` only over https, so an ``http`` endpoint (an
    emulator) is written into a connection string with the same credentials instead. With no credentials and
    no ``anon``, adlfs falls back to ``DefaultAzureCredential``.
    """
    connection_string = _field(extra, "connection_string")
    if connection_string:
        return {"connection_string": str(connection_string)}

    endpoint = _endpoint(conn, extra)
    sas_token = _field(extra, "sas_token")
    if sas_token and "://" in str(sas_token):  # a full SAS URL, as Airflow's wasb hook accepts
        endpoint, _, sas_token = str(sas_token).partition("?")
        endpoint = endpoint.rstrip("/")
    tenant_id = _field(extra, "tenant_id")
    options: dict[str, Any] = {}
    if tenant_id:
        if not (conn.login and conn.password):
            raise ConfigurationError(
                f"Connection {conn.conn_id!r} sets tenant_id but not the service principal's client id (login) "
                "and secret (password)."
            )
        account_name = _field(extra, "account_name") or _account_from(endpoint)
        options.update(client_id=conn.login, client_secret=conn.password, tenant_id=str(tenant_id))
    else:
        account_name = conn.login or _field(extra, "account_name") or _account_from(endpoint)
        account_key = conn.password or _field(extra, "shared_access_key")
        if account_key:
            options["account_key"] = account_key
        elif sas_token:
            options["sas_token"] = str(sas_token).lstrip("?")
        elif extra.get("anon"):
            options["anon"] = True
    if not account_name:
        raise ConfigurationError(
            f"Connection {conn.conn_id!r} names no storage account: set login (the account name), an account URL "
            "as host or extra account_url, or extra connection_string."
        )
    options["account_name"] = account_name

    if endpoint and urlsplit(endpoint).scheme.lower() == "http":
        if "client_id" in options:
            raise ConfigurationError(
                f"Connection {conn.conn_id!r}: a service principal needs an https:// endpoint, not {endpoint}."
            )
        settings = [f"BlobEndpoint={endpoint}"]
        if "account_key" in options:
            settings += [f"AccountName={account_name}", f"AccountKey={options['account_key']}"]
        elif "sas_token" in options:
            settings.append(f"SharedAccessSignature={options['sas_token']}")
        return {"account_name": account_name, "connection_string": ";".join(settings) + ";"}
    if endpoint:
        parts = urlsplit(endpoint)
        options["account_host"] = parts.netloc + parts.path.rstrip("/")
    return options
