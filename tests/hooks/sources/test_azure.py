"""az:// sources read through a wasb-style connection, on Azurite's real blob service on loopback.

Azurite (``azurite_endpoint``, see ``local_stores.py``) is installed beforehand by ``.ci/setup``.
"""

import hashlib
import os

import pytest
from airflow.sdk import Connection
from local_stores import AZURE_ACCOUNT, AZURE_KEY

from airflow_provider_chunkup.errors import ConfigurationError, SourceError
from airflow_provider_chunkup.hooks.sources import storage_options_for
from airflow_provider_chunkup.hooks.sources.azure import azure_options
from airflow_provider_chunkup.hooks.x import XMediaUploadHook

MiB = 1024 * 1024
ACCOUNT = AZURE_ACCOUNT
KEY = AZURE_KEY


@pytest.fixture
def azure_blob(azurite_endpoint, set_connection):
    """A container with one random blob, and a wasb connection (account name and key) to read it."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(account_url=azurite_endpoint, credential={"account_name": ACCOUNT,
                                                                          "account_key": KEY})
    container = service.get_container_client("container")
    if not container.exists():
        container.create_container()
    data = os.urandom(9 * MiB + 11)
    container.upload_blob("clip.mp4", data, overwrite=True, max_concurrency=2)
    service.close()
    conn_id = set_connection("azurite", conn_type="wasb", login=ACCOUNT, password=KEY, host=azurite_endpoint)
    return "az://container/clip.mp4", conn_id, hashlib.sha256(data).hexdigest()


def test_azure_source_uploads(azure_blob, x_connection, received):
    url, source_conn, sha = azure_blob
    x_connection(chunk_size=2 * MiB)
    result = XMediaUploadHook().upload(url, source_conn_id=source_conn, media_type="video/mp4", max_in_flight=3)
    assert result.sha256 == sha == received(result.media_id)["sha256"]
    assert received(result.media_id)["size"] == 9 * MiB + 11


def test_azure_missing_blob_is_named(azure_blob, x_connection):
    _, source_conn, _ = azure_blob
    x_connection()
    with pytest.raises(SourceError, match="does not exist"):
        XMediaUploadHook().upload("az://container/nope.mp4", source_conn_id=source_conn, media_type="video/mp4")


async def test_azure_storage_options_through_the_connection(set_connection):
    set_connection("azurite_cs", conn_type="wasb", extra={"connection_string": "UseDevelopmentStorage=true"})
    assert await storage_options_for("abfs://container/clip.mp4", "azurite_cs", {"max_concurrency": 2}) == {
        "connection_string": "UseDevelopmentStorage=true", "max_concurrency": 2}


def test_azure_connection_forms():
    emulator = "http://127.0.0.1:10000/devstoreaccount1"
    key_conn = Connection(conn_id="k", conn_type="wasb", login=ACCOUNT, password=KEY)
    assert azure_options(key_conn, {}) == {"account_name": ACCOUNT, "account_key": KEY}
    assert azure_options(key_conn, {"account_url": emulator}) == {
        "account_name": ACCOUNT,
        "connection_string": f"BlobEndpoint={emulator};AccountName={ACCOUNT};AccountKey={KEY};"}
    https_host = Connection(conn_id="h", conn_type="wasb", login="acct", password="k",
                            host="https://acct.blob.core.windows.net/")
    assert azure_options(https_host, {}) == {"account_name": "acct", "account_key": "k",
                                             "account_host": "acct.blob.core.windows.net"}
    assert azure_options(Connection(conn_id="n", conn_type="wasb", login="acct", password="k", host="acct"), {}) == {
        "account_name": "acct", "account_key": "k"}  # a bare account name as host, as the wasb hook allows

    cs = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k;EndpointSuffix=core.windows.net"
    assert azure_options(Connection(conn_id="c", conn_type="wasb"), {"connection_string": cs}) == {
        "connection_string": cs}
    assert azure_options(Connection(conn_id="c", conn_type="wasb"), {"extra__wasb__connection_string": cs}) == {
        "connection_string": cs}

    sas_conn = Connection(conn_id="s", conn_type="wasb", login="acct")
    assert azure_options(sas_conn, {"sas_token": "?sv=1&sig=x"}) == {"account_name": "acct", "sas_token": "sv=1&sig=x"}
    assert azure_options(Connection(conn_id="u", conn_type="wasb"),
                         {"sas_token": "https://acct.blob.core.windows.net/?sv=1&sig=x"}) == {
        "account_name": "acct", "sas_token": "sv=1&sig=x", "account_host": "acct.blob.core.windows.net"}
    assert azure_options(Connection(conn_id="e", conn_type="wasb", host=emulator), {"sas_token": "sv=1&sig=x"}) == {
        "account_name": ACCOUNT, "connection_string": f"BlobEndpoint={emulator};SharedAccessSignature=sv=1&sig=x;"}

    assert azure_options(Connection(conn_id="a", conn_type="wasb", login="public"), {"anon": True}) == {
        "account_name": "public", "anon": True}
    assert azure_options(Connection(conn_id="a", conn_type="wasb", host=emulator), {"anon": True}) == {
        "account_name": ACCOUNT, "connection_string": f"BlobEndpoint={emulator};"}

    principal = Connection(conn_id="p", conn_type="wasb", login="client", password="secret",
                           host="https://acct.blob.core.windows.net")
    assert azure_options(principal, {"tenant_id": "tenant"}) == {
        "account_name": "acct", "client_id": "client", "client_secret": "secret", "tenant_id": "tenant",
        "account_host": "acct.blob.core.windows.net"}

    with pytest.raises(ConfigurationError, match="names no storage account"):
        azure_options(Connection(conn_id="none", conn_type="wasb"), {"sas_token": "sv=1"})
    with pytest.raises(ConfigurationError, match="client id"):
        azure_options(Connection(conn_id="t", conn_type="wasb", host="https://acct.blob.core.windows.net"),
                      {"tenant_id": "tenant"})


def test_azure_options_open_azurite(azurite_endpoint, azure_blob):
    """The key and SAS forms, over http to Azurite, really open the blob with adlfs."""
    from datetime import datetime, timedelta, timezone

    from adlfs import AzureBlobFileSystem
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    sas = generate_account_sas(ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
                               AccountSasPermissions(read=True, list=True),
                               expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    forms = [Connection(conn_id="k", conn_type="wasb", login=ACCOUNT, password=KEY, host=azurite_endpoint),
             Connection(conn_id="s", conn_type="wasb", host=azurite_endpoint)]
    for conn, extra in zip(forms, [{}, {"sas_token": sas}], strict=True):
        fs = AzureBlobFileSystem(**azure_options(conn, extra), skip_instance_cache=True)
        assert fs.info("container/clip.mp4")["size"] == 9 * MiB + 11
        assert len(fs.cat_file("container/clip.mp4", start=MiB, end=2 * MiB)) == MiB


def test_azure_wrong_key_is_access_denied(azure_blob, azurite_endpoint, set_connection, x_connection):
    import base64

    wrong = base64.b64encode(b"not the account key" * 3).decode()
    set_connection("azurite_wrong", conn_type="wasb", login=ACCOUNT, password=wrong, host=azurite_endpoint)
    x_connection()
    with pytest.raises(SourceError, match=r"az://container/clip.mp4 cannot be read: the store denied access") as e:
        XMediaUploadHook().upload("az://container/clip.mp4", source_conn_id="azurite_wrong", media_type="video/mp4")
    assert wrong not in str(e.value)
