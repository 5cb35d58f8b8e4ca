"""TusUploadHook: connection forms, end-to-end uploads to tus servers, restart after expiry, the Test button,
parallel parts, the Supabase profile."""

import hashlib

import httpx
import pytest
from tus_servers import Recorder, Together, resumable_upload_server, tus_node_server, wait_for

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, UploadExpired
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


# -- parallel parts (concatenation) -------------------------------------------------------------------------------

class RecordedHook(TusUploadHook):
    """The hook with its protocol's requests going through a test transport."""

    def __init__(self, conn_id: str, transport) -> None:
        super().__init__(conn_id)
        self.transport = transport

    def build_protocol(self, conn, options, transport=None):
        return super().build_protocol(conn, options, transport=self.transport)


def test_parallel_parts_as_separate_tasks(tus_resumable, set_connection, media_file):
    """init, append and finalize as three tasks: the append task (a new client) sends three parts at once."""
    set_connection("tus_parts", conn_type="chunkup_tus", host=tus_resumable.url,
                   extra={"chunk_size": 384 * KB, "max_in_flight": 3})
    path = media_file(2000 * KB)
    session = TusUploadHook("tus_parts").init(str(path))
    assert session.remote["parts"] == {} and session.segment_count == 6
    together = Together(count=3)
    session = RecordedHook("tus_parts", together).append(session.to_dict())
    assert together.most_held == 3 and len(session.remote["parts"]) == 6
    result = TusUploadHook("tus_parts").finalize(session.to_dict())
    assert tus_resumable.stored(result.details["upload_url"]) == path.read_bytes()


def test_the_connections_max_in_flight_chooses_parts(emulator, set_connection, media_file):
    """max_in_flight=3 on the connection: one call sends parts in parallel (the emulator's server); a call's own
    max_in_flight on a connection without it leaves the upload one upload, in order."""
    path = media_file(1500 * KB)
    set_connection("tus_conn3", conn_type="chunkup_tus", host=f"{emulator.url}/files/",
                   extra={"chunk_size": 384 * KB, "max_in_flight": 3})
    together = Together(count=3)
    result = RecordedHook("tus_conn3", together).upload(str(path))
    assert together.most_held == 3
    final = httpx.get(f"{emulator.url}/_emulator/tus/uploads/{result.media_id}").json()
    assert final["concat"] == "final" and len(final["parts"]) == 4
    assert final["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    set_connection("tus_conn1", conn_type="chunkup_tus", host=f"{emulator.url}/files/", extra={"chunk_size": 384 * KB})
    recorder = Recorder()
    result = RecordedHook("tus_conn1", recorder).upload(str(path), max_in_flight=3)
    assert not any("Upload-Concat" in s.headers for s in recorder.sent)
    assert httpx.get(f"{emulator.url}/_emulator/tus/uploads/{result.media_id}").json()["concat"] is None


def test_capabilities_of_an_opened_upload(tus_resumable, set_connection, media_file):
    """The connection alone says in order; an upload opened as parts says parallel (so it can be split)."""
    path = str(media_file(500 * KB))
    set_connection("tus_caps", conn_type="chunkup_tus", host=tus_resumable.url,
                   extra={"chunk_size": 100 * KB, "max_in_flight": 3})
    hook = TusUploadHook("tus_caps")
    assert not hook.capabilities().parallel_segments
    assert "set max_in_flight > 1 on the connection before init" in hook.capabilities().in_order_because
    parts = hook.init(path)
    assert TusUploadHook("tus_caps").session_capabilities(parts.to_dict()).parallel_segments
    set_connection("tus_caps1", conn_type="chunkup_tus", host=tus_resumable.url, extra={"chunk_size": 100 * KB})
    whole = TusUploadHook("tus_caps1").init(path)
    assert "url" in whole.remote and not TusUploadHook("tus_caps1").session_capabilities(whole).parallel_segments


# -- Supabase Storage ---------------------------------------------------------------------------------------------

MiB = KB * KB


def test_supabase_profile_on_tus_node_server(tus_node, set_connection, media_file):
    """Supabase Storage runs @tus/server: 6 MiB chunks, its metadata names, x-upsert; in order even with
    max_in_flight (no concatenation there)."""
    set_connection("supa", conn_type="chunkup_tus", host=tus_node.url, password="service-role-key",
                   extra={"profile": "supabase", "bucket": "videos", "upsert": True, "cache_control": "3600",
                          "max_in_flight": 4})
    path = media_file(13 * MiB + 5, "talk.mp4")
    recorder = Recorder()
    hook = RecordedHook("supa", recorder)
    result = hook.upload(str(path))
    assert tus_node.stored(result.details["upload_url"]) == path.read_bytes()
    patches = [s for s in recorder.sent if s.method == "PATCH"]
    assert [s.body_bytes for s in patches] == [6 * MiB, 6 * MiB, MiB + 5]
    post = next(s for s in recorder.sent if s.method == "POST")
    assert post.headers["x-upsert"] == "true" and post.headers["Authorization"] == "Bearer service-role-key"
    assert not any("Upload-Concat" in s.headers for s in recorder.sent)
    assert tus_node.metadata(result.details["upload_url"]) == {
        "bucketName": "videos", "objectName": "talk.mp4", "contentType": "video/mp4", "cacheControl": "3600"}
    capabilities = TusUploadHook("supa").capabilities()
    assert not capabilities.parallel_segments and "Supabase Storage has no concatenation" in \
        capabilities.in_order_because


def test_supabase_profile_on_the_emulator_with_a_token(emulator, set_connection, media_file):
    emulator.config.tus.bearer_tokens = ["supabase-key"]
    path = media_file(7 * MiB, "clip.mp4")
    extra = {"profile": "supabase", "bucket": "media"}
    set_connection("supa_ok", conn_type="chunkup_tus", host=f"{emulator.url}/files/", password="supabase-key",
                   extra={**extra, "metadata": {"objectName": "folder/clip.mp4", "metadata": {"team": "video"}}})
    result = TusUploadHook("supa_ok").upload(str(path))
    upload = httpx.get(f"{emulator.url}/_emulator/tus/uploads/{result.media_id}").json()
    assert upload["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and upload["patches"] == 2
    assert upload["metadata"] == {"bucketName": "media", "objectName": "folder/clip.mp4",
                                  "metadata": '{"team":"video"}', "contentType": "video/mp4"}
    set_connection("supa_bad", conn_type="chunkup_tus", host=f"{emulator.url}/files/", password="wrong-key",
                   extra=extra)
    with pytest.raises(AuthenticationFailed, match=r"HTTP 401.*Check the token in the connection's password"):
        TusUploadHook("supa_bad").upload(str(path))


def test_supabase_endpoint_from_the_project_url(set_connection):
    set_connection("supa_url", conn_type="chunkup_tus", host="https://abcd.storage.supabase.co",
                   extra={"profile": "supabase", "bucket": "media"})
    protocol = TusUploadHook("supa_url").get_conn()
    assert protocol.endpoint == "https://abcd.storage.supabase.co/storage/v1/upload/resumable"
    assert protocol.limits.default_chunk_bytes == protocol.limits.max_chunk_bytes == 6 * MiB


@pytest.mark.parametrize(("extra", "message"), [
    ({"profile": "supabase"}, r"profile supabase needs the bucket to upload to: set bucket"),
    ({"profile": "supabase", "bucket": "b", "chunk_size": 5 * MiB},
     r"exactly 6291456 bytes \(6 MiB\).*chunk_size=5242880 cannot be used\. Remove chunk_size"),
    ({"profile": "firebase"}, r"profile must be one of supabase \(or unset for a plain tus server\), got 'firebase'"),
    ({"bucket": "b"}, r"bucket is a setting of a service profile; set profile"),
])
def test_supabase_settings_refused_before_any_request(set_connection, extra, message):
    set_connection("supa_no", conn_type="chunkup_tus", host="https://abcd.storage.supabase.co", extra=extra)
    with pytest.raises(ConfigurationError, match=message):
        TusUploadHook("supa_no").get_conn()


def test_supabase_chunk_size_of_a_task_refused_before_any_request(set_connection, media_file):
    set_connection("supa_task", conn_type="chunkup_tus", host="https://abcd.storage.supabase.co",
                   extra={"profile": "supabase", "bucket": "media"})
    recorder = Recorder()
    with pytest.raises(ConfigurationError, match=r"Supabase Storage takes chunks of exactly 6291456 bytes \(6 MiB\), "
                                                 r"every one but the last; chunk_size=1048576 cannot be used"):
        RecordedHook("supa_task", recorder).upload(str(media_file(10 * KB)), chunk_size=MiB)
    assert recorder.sent == []


def test_profile_settings_left_empty_by_the_ui_form_are_no_profile(set_connection):
    """The connection form saves an unticked box as false and an empty field as "": neither asks for a profile."""
    set_connection("tus_form", conn_type="chunkup_tus", host="https://tus.example.com/files/",
                   extra={"upsert": False, "bucket": "", "cache_control": None, "profile": ""})
    assert TusUploadHook("tus_form").get_conn().endpoint == "https://tus.example.com/files/"
