"""TusUploadHook: connection forms, end-to-end uploads to two tus servers, restart after expiry, the Test button."""

import pytest
from tus_servers import resumable_upload_server, tus_node_server, wait_for

from airflow_provider_chunkup.errors import ConfigurationError, UploadExpired
from airflow_provider_chunkup.hooks.registry import hook_for_api, hook_for_connection
from airflow_provider_chunkup.hooks.tus import TusUploadHook
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore

KB = 1024


def test_connection_settings(set_connection):
    set_connection("tus_full", conn_type="chunkup_tus", host="https://tus.example.com/files/", password="secret-token",
                   extra={"metadata": {"bucketName": "media"}, "checksum": "SHA256", "chunk_size": 1048576,
                          "headers": {"X-Api-Key": "k"}, "timeout": 30})
    hook = TusUploadHook("tus_full")
    protocol = hook.get_conn()
    assert protocol.endpoint == "https://tus.example.com/files/"
    assert protocol.metadata == {"bucketName": "media"} and protocol.checksum == "sha256"
    assert protocol.limits.default_chunk_bytes == 8 * KB * KB and protocol.limits.max_chunk_bytes == KB ** 3
    assert hook.chunk_size() == 1048576
    assert not protocol.capabilities.parallel_segments and protocol.capabilities.reports_committed
    assert "secret-token" not in repr(protocol.client._client.auth)
    assert isinstance(hook_for_api("tus", "tus_full"), TusUploadHook)
    assert isinstance(hook_for_connection("tus_full"), TusUploadHook)


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "no host"),
    ({"host": "http://tus.example.com/files/"}, "allow_insecure_http"),
    ({"host": "https://tus.example.com/files/", "extra": {"checksum": "crc32"}}, "checksum must be"),
    ({"host": "https://tus.example.com/files/", "extra": {"metadata": {"bad key": "v"}}}, "not a valid tus key"),
    ({"host": "https://tus.example.com/files/", "extra": {"metadata": "[1]"}}, "must be a JSON object"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("tus_bad", conn_type="chunkup_tus", **fields)
    with pytest.raises(ConfigurationError, match=message):
        TusUploadHook("tus_bad").get_conn()


def test_upload_end_to_end(tus_server, set_connection, media_file):
    set_connection("tus_e2e", conn_type="chunkup_tus", host=tus_server.url,
                   extra={"metadata": {"bucketName": "media"}, "chunk_size": 300 * KB})
    path = media_file(1000 * KB + 1, "talk.mp4")
    result = TusUploadHook("tus_e2e").upload(str(path))
    url = result.details["upload_url"]
    assert tus_server.stored(url) == path.read_bytes() and result.conn_id == "tus_e2e"
    assert result.api == "tus" and result.media_id == url.rsplit("/", 1)[-1]
    metadata = tus_server.metadata(url)
    assert metadata["bucketName"] == "media" and metadata["filename"] == "talk.mp4"


def test_steps_as_separate_tasks(tus_resumable, set_connection, media_file):
    set_connection("tus_steps", conn_type="chunkup_tus", host=tus_resumable.url, extra={"chunk_size": 100 * KB})
    path = media_file(250 * KB)
    session = TusUploadHook("tus_steps").init(str(path))
    session = TusUploadHook("tus_steps").append(session.to_dict())
    result = TusUploadHook("tus_steps").finalize(session.to_dict())
    assert tus_resumable.stored(result.details["upload_url"]) == path.read_bytes()
    assert TusUploadHook("tus_steps").status(result.media_id).done


def test_abort_deletes_the_upload(tus_node, set_connection, media_file):
    set_connection("tus_abort", conn_type="chunkup_tus", host=tus_node.url, extra={"chunk_size": 100 * KB})
    path = media_file(250 * KB)
    session = TusUploadHook("tus_abort").init(str(path))
    assert TusUploadHook("tus_abort").abort(session.to_dict()) is True
    assert tus_node.head(session.remote["url"]).status_code == 404


@pytest.mark.parametrize("server", ["@tus/server", "resumable-upload"])
def test_expired_upload_fails_or_restarts_when_allowed(server, tmp_path, set_connection, media_file):
    path = media_file(250 * KB)
    start = (tus_node_server(tmp_path, expiration_ms=1000) if server == "@tus/server"
             else resumable_upload_server(tmp_path, expiry_seconds=1))
    with start as tus:
        set_connection("tus_exp", conn_type="chunkup_tus", host=tus.url, extra={"chunk_size": 100 * KB})
        session = TusUploadHook("tus_exp").init(str(path))
        wait_for(lambda: tus.head(session.remote["url"]).status_code in (404, 410), "the upload to expire")
        with pytest.raises(UploadExpired, match="restart_expired"):
            TusUploadHook("tus_exp").append(session.to_dict())
        set_connection("tus_restart", conn_type="chunkup_tus", host=tus.url,
                       extra={"chunk_size": 100 * KB, "restart_expired": True})
        fresh = TusUploadHook("tus_restart").append(session.to_dict())
        assert fresh.remote["url"] != session.remote["url"]
        result = TusUploadHook("tus_restart").finalize(fresh.to_dict())
        assert tus.stored(result.details["upload_url"]) == path.read_bytes()


def test_checkpointed_upload_restarts_an_expired_one(tmp_path, set_connection, media_file):
    path = media_file(250 * KB)
    with tus_node_server(tmp_path, expiration_ms=1000) as tus:
        set_connection("tus_cp", conn_type="chunkup_tus", host=tus.url,
                       extra={"chunk_size": 100 * KB, "restart_expired": True})
        store = MemoryStore()
        session = TusUploadHook("tus_cp").init(str(path), checkpoint=Checkpoint(store))
        wait_for(lambda: tus.head(session.remote["url"]).status_code == 410, "the upload to expire")
        result = TusUploadHook("tus_cp").upload(str(path), checkpoint=Checkpoint(store))
        assert result.details["upload_url"] != session.remote["url"]
        assert tus.stored(result.details["upload_url"]) == path.read_bytes()


def test_test_connection(tus_server, set_connection):
    set_connection("tus_ok", conn_type="chunkup_tus", host=tus_server.url, password="a-long-bearer-token")
    before = sorted(tus_server.data.iterdir()) if tus_server.data.exists() else []
    ok, message = TusUploadHook("tus_ok").test_connection()
    assert ok, message
    assert "speaks tus 1.0.0" in message and "creation" in message and "a-long-bearer-token" not in message
    assert (sorted(tus_server.data.iterdir()) if tus_server.data.exists() else []) == before  # nothing created


def test_test_connection_fails_clearly(set_connection):
    set_connection("tus_down", conn_type="chunkup_tus", host="http://127.0.0.1:9/files/")
    ok, message = TusUploadHook("tus_down").test_connection()
    assert not ok and "Cannot reach" in message
