"""Secrets never leak: not into XCom, task state, rendered templates, reprs, error messages or unmasked logs.

Every test makes its own secrets (a label and a random suffix) and teaches them to the emulator, so a secret
found anywhere came from this test's run, and a secret the Airflow masker redacts was masked during it. Runtime
secrets (api.video's access and refresh tokens) are read from the emulator, which issued them.

Also: TLS is verified by default (a self-signed HTTPS server on loopback is refused, after one attempt), and
plain http:// to a host that is not loopback is refused before any lookup unless the connection allows it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.server
import json
import logging
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from airflow.sdk._shared.secrets_masker import redact
from self_signed import self_signed_cert

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, ServerError
from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.hooks.cloudflare_stream import CloudflareStreamHook
from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook
from airflow_provider_chunkup.hooks.facebook import FacebookVideoHook
from airflow_provider_chunkup.hooks.facebook_reels import FacebookReelsHook
from airflow_provider_chunkup.hooks.instagram import InstagramHook
from airflow_provider_chunkup.hooks.linkedin import LinkedInHook
from airflow_provider_chunkup.hooks.tiktok import TikTokHook
from airflow_provider_chunkup.hooks.tus import TusUploadHook
from airflow_provider_chunkup.hooks.vimeo import VimeoUploadHook
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.operators.resume import UploadFailedForGood
from airflow_provider_chunkup.operators.upload import (
    ChunkedUploadOperator,
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)
from airflow_provider_chunkup.operators.x_post import XCreatePostOperator
from airflow_provider_chunkup.protocols.apivideo import ApiVideoBearerAuth
from airflow_provider_chunkup.protocols.checkpoint import MemoryStore
from airflow_provider_chunkup.protocols.chunking import MiB

HOOKS = {"x": XMediaUploadHook, "apivideo": ApiVideoHook, "content_range": ContentRangeUploadHook,
         "tus": TusUploadHook, "vimeo": VimeoUploadHook, "cloudflare_stream": CloudflareStreamHook,
         "facebook": FacebookVideoHook, "instagram": InstagramHook, "facebook_reels": FacebookReelsHook,
         "tiktok": TikTokHook, "linkedin": LinkedInHook}
CONN_TYPES = {"x": "chunkup_x", "apivideo": "chunkup_apivideo", "content_range": "chunkup_content_range",
              "tus": "chunkup_tus"}
REMOTE_HOST = "media.example.invalid"


def secret(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex}"


@dataclass
class Setup:
    """One way to authenticate to one API, with its secrets known to the emulator."""

    api: str
    conn_id: str
    secrets: list[str]
    runtime: Callable[[], list[str]] = lambda: []
    """Secrets the platform hands out during the upload (api.video access and refresh tokens)."""
    file_name: str = "clip.mp4"
    chunk_size: int | None = None
    split: bool = True
    """The upload may run as init, append and finalize tasks (not where the session is itself a credential)."""

    def all_secrets(self) -> list[str]:
        return self.secrets + self.runtime()


def x_oauth2(emulator: Any, set_connection: Callable[..., str], **extra: Any) -> Setup:
    token = secret("x-bearer")
    emulator.config.x.bearer_tokens = {token}
    conn_id = set_connection("secret_x", conn_type="chunkup_x", host=emulator.url, password=token,
                             extra={"chunk_size": MiB, **extra})
    return Setup("x", conn_id, [token], chunk_size=MiB)


def x_oauth1(emulator: Any, set_connection: Callable[..., str], **extra: Any) -> Setup:
    consumer_key, consumer_secret = f"ck-{uuid.uuid4().hex}", secret("x-consumer-secret")
    access_token, token_secret = secret("x-access-token"), secret("x-access-token-secret")
    emulator.config.x.oauth1_consumers = {consumer_key: consumer_secret}
    emulator.config.x.oauth1_tokens = {access_token: token_secret}
    conn_id = set_connection("secret_x1", conn_type="chunkup_x", host=emulator.url, login=consumer_key,
                             password=consumer_secret,
                             extra={"access_token": access_token, "access_token_secret": token_secret,
                                    "chunk_size": MiB, **extra})
    # The consumer key identifies the app, like a user name; the other three are secrets.
    return Setup("x", conn_id, [consumer_secret, access_token, token_secret], chunk_size=MiB)


def x_oauth1_v11(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    return x_oauth1(emulator, set_connection, api_version="v1.1")


def apivideo_basic(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    key = secret("apivideo-key")
    emulator.config.apivideo.api_keys = {key}
    conn_id = set_connection("secret_av", conn_type="chunkup_apivideo", host=emulator.url, password=key,
                             extra={"chunk_size": 5 * MiB})
    return Setup("apivideo", conn_id, [key], chunk_size=5 * MiB)


def apivideo_bearer(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    key = secret("apivideo-key")
    emulator.config.apivideo.api_keys = {key}
    conn_id = set_connection("secret_avb", conn_type="chunkup_apivideo", host=emulator.url, password=key,
                             extra={"auth": "bearer", "chunk_size": 5 * MiB})
    auth = emulator.app.state.apivideo.auth

    def issued() -> list[str]:
        tokens = [*auth.access_tokens, *auth.refresh_tokens]
        assert tokens, "the emulator issued no token: the bearer flow did not run"
        return tokens

    return Setup("apivideo", conn_id, [key], runtime=issued, chunk_size=5 * MiB)


def apivideo_upload_token(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    key = secret("apivideo-key")
    emulator.config.apivideo.api_keys = {key}
    created = httpx.post(f"{emulator.url}/upload-tokens", json={}, auth=(key, ""))
    created.raise_for_status()
    upload_token = created.json()["token"]
    conn_id = set_connection("secret_avt", conn_type="chunkup_apivideo", host=emulator.url,
                             extra={"upload_token": upload_token, "chunk_size": 5 * MiB})
    return Setup("apivideo", conn_id, [upload_token], chunk_size=5 * MiB)  # the key stays with the test


def content_range(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    token = secret("cr-token")
    emulator.config.content_range.bearer_tokens = {token}
    conn_id = set_connection("secret_cr", conn_type="chunkup_content_range", host=emulator.url, password=token)
    return Setup("content_range", conn_id, [token], file_name="brochure.pdf")


def tus_bearer(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    token = secret("tus-token")
    emulator.config.tus.bearer_tokens = [token]
    conn_id = set_connection("secret_tus", conn_type="chunkup_tus", host=f"{emulator.url}/files/", password=token,
                             extra={"chunk_size": MiB})
    return Setup("tus", conn_id, [token], chunk_size=MiB)


def vimeo_token(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    """The token, and each video's upload link: it takes bytes without a token, so it is a secret too."""
    token = secret("vimeo-access")
    emulator.config.vimeo.tokens = [token]
    conn_id = set_connection("secret_vimeo", conn_type="chunkup_vimeo", host=f"{emulator.url}/vimeo", password=token,
                             extra={"chunk_size": MiB})

    def links() -> list[str]:
        videos = httpx.get(f"{emulator.url}/_emulator/vimeo/videos").json()
        return [f"{emulator.url}{video['upload_link']}" for video in videos]  # as Vimeo handed it out

    return Setup("vimeo", conn_id, [token], runtime=links)


def cloudflare_token(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    token = secret("stream-api")
    emulator.config.cloudflare_stream.tokens = [token]
    conn_id = set_connection("secret_cloudflare", conn_type="chunkup_cloudflare_stream",
                             host=f"{emulator.url}/client/v4", login="0123456789abcdef0123456789abcdef",
                             password=token, extra={"chunk_size": 5 * MiB})
    return Setup("cloudflare_stream", conn_id, [token], chunk_size=5 * MiB)


def facebook_app_secret(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    """A Page token and the app secret; every request carries the proof made of both, a secret too."""
    token, app_secret = secret("meta-page"), secret("meta-app-secret")
    emulator.config.meta.tokens = [token]
    emulator.config.meta.window_bytes = MiB
    conn_id = set_connection("secret_facebook", conn_type="chunkup_facebook", host=emulator.url, password=token,
                             extra={"target": "page:1234", "app_secret": app_secret, "chunk_size": MiB})
    proof = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    return Setup("facebook", conn_id, [token, app_secret, proof], chunk_size=MiB)


def _meta_token(api: str, **extra: Any) -> Callable[[Any, Callable[..., str]], Setup]:
    def make(emulator: Any, set_connection: Callable[..., str]) -> Setup:
        token = secret(f"{api}-access")  # not "meta-token...": the emulator default, masked by earlier tests
        emulator.config.meta.tokens = [token]
        conn_id = set_connection(f"secret_{api}", conn_type=f"chunkup_{api}", host=emulator.url, password=token,
                                 extra={**extra, "chunk_size": MiB})
        return Setup(api, conn_id, [token], chunk_size=MiB)

    make.__name__ = f"{api}_token"
    return make


instagram_token = _meta_token("instagram", ig_user_id="17841400000000001")
facebook_reels_token = _meta_token("facebook_reels", page_id="1234")


def tiktok_token(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    """The token, and the upload URL TikTok hands out: it takes bytes without a token."""
    token = secret("tiktok-user")
    emulator.config.tiktok.tokens = [token]
    conn_id = set_connection("secret_tiktok", conn_type="chunkup_tiktok", host=emulator.url, password=token,
                             extra={"mode": "inbox"})
    posts = emulator.app.state.tiktok.posts

    def upload_tokens() -> list[str]:
        assert posts, "TikTok handed out no upload URL: the upload did not run"
        return [post.upload_token for post in posts.values()]

    return Setup("tiktok", conn_id, [token], runtime=upload_tokens, split=False)


def linkedin_token(emulator: Any, set_connection: Callable[..., str]) -> Setup:
    """The token, and the signatures of the part URLs LinkedIn hands out: they take bytes without a token."""
    from airflow_provider_chunkup.emulators.linkedin.emulator import _sign

    token = secret("linkedin-access")
    emulator.config.linkedin.tokens = [token]
    emulator.config.linkedin.part_bytes = MiB
    conn_id = set_connection("secret_linkedin", conn_type="chunkup_linkedin", host=emulator.url, password=token,
                             extra={"owner": "urn:li:person:chunkup"})
    videos = emulator.app.state.linkedin.videos

    def signatures() -> list[str]:
        assert videos, "LinkedIn handed out no part URL: the upload did not run"
        return [_sign(video, str(part)) for video in videos.values() for part in range(len(video.parts))]

    return Setup("linkedin", conn_id, [token], runtime=signatures, split=False)


SETUPS = [x_oauth2, x_oauth1, x_oauth1_v11, apivideo_basic, apivideo_bearer, apivideo_upload_token, content_range,
          tus_bearer, vimeo_token, cloudflare_token, facebook_app_secret, instagram_token, facebook_reels_token,
          tiktok_token, linkedin_token]


def assert_absent(secrets: list[str], where: str, value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value, default=repr)
    for s in secrets:
        assert s not in text, f"a secret appears in {where}"


def assert_masked(secrets: list[str]) -> None:
    """The masker Airflow runs over task logs knows every secret (so mask_secret was called with it)."""
    for s in secrets:
        assert redact(f"before {s} after") == "before *** after", f"{s[:12]}... is not masked"
    assert redact(f"before {secret('never-seen')} after") != "before *** after"  # the check is not vacuous



class _TaskInstance:
    """The ``ti`` a template sees: ``xcom_pull`` of the tasks that ran before."""

    def __init__(self, xcoms: dict[str, Any]) -> None:
        self.xcoms = xcoms

    def xcom_pull(self, task_ids: str) -> Any:
        return self.xcoms[task_ids]


def run_rendered(operator: Any, context: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Render the operator's template fields as a task run does, then execute it; (rendered fields, XCom)."""
    operator.render_template_fields(context)
    rendered = {name: getattr(operator, name) for name in operator.template_fields}
    return rendered, operator.execute(context)


# -- uploads with every kind of credential -------------------------------------------------------------

@pytest.mark.parametrize("make", SETUPS, ids=[make.__name__ for make in SETUPS])
def test_secrets_stay_out_of_xcom_state_templates_reprs_and_logs(make, emulator, set_connection, tmp_path,
                                                                 caplog, capsys, loopback_only):
    caplog.set_level(logging.DEBUG)
    setup = make(emulator, set_connection)
    path = tmp_path / setup.file_name
    path.write_bytes(b"\x00" * (2 * MiB + 17 if setup.api != "content_range" else 500_000))
    xcoms: dict[str, Any] = {}
    stores = {name: MemoryStore() for name in ("init", "append", "finalize", "upload", "post")}
    params = {"source": str(path), "conn_id": setup.conn_id, "category": None}

    def context(task: str) -> dict[str, Any]:
        return {"params": params, "ti": _TaskInstance(xcoms), "task_state_store": stores[task]}

    rendered: dict[str, Any] = {}
    init = ChunkUploadInitOperator(task_id="init", source="{{ params.source }}", conn_id="{{ params.conn_id }}")
    if setup.split:
        rendered["init"], xcoms["init"] = run_rendered(init, context("init"))
        rendered["append"], xcoms["append"] = run_rendered(ChunkUploadAppendOperator(
            task_id="append", session="{{ ti.xcom_pull(task_ids='init') | tojson }}"), context("append"))
        rendered["finalize"], xcoms["finalize"] = run_rendered(ChunkUploadFinalizeOperator(
            task_id="finalize", session="{{ ti.xcom_pull(task_ids='append') | tojson }}"), context("finalize"))
    else:  # the session is a credential: the init task refuses before any request, naming the operator to use
        with pytest.raises(UploadFailedForGood, match="Upload in one task with ChunkedUploadOperator"):
            run_rendered(init, context("init"))
        assert stores["init"] == {}
    rendered["upload"], xcoms["upload"] = run_rendered(ChunkedUploadOperator(
        task_id="upload", source="{{ params.source }}", conn_id="{{ params.conn_id }}"), context("upload"))

    if setup.api == "x":  # then the post, with the upload's XCom rendered as text
        rendered["post"], xcoms["post"] = run_rendered(XCreatePostOperator(
            task_id="post", text="Posted {{ params.category }}", conn_id="{{ params.conn_id }}", alt_text="alt",
            media="{{ ti.xcom_pull(task_ids='upload') | tojson }}"), context("post"))
        assert stores["post"]["chunkup.post"]["post"]["id"] == xcoms["post"]["post_id"]

    # The uploads happened, and the records hold what they should (so the checks below look at real data).
    assert xcoms["upload"]["size"] == path.stat().st_size
    assert stores["upload"]["chunkup.upload"]["result"]["media_id"] == xcoms["upload"]["media_id"]
    if setup.split:
        assert xcoms["finalize"]["size"] == path.stat().st_size
        assert rendered["init"]["source"] == str(path) and rendered["append"]["session"].startswith("{")
        assert stores["init"]["chunkup.upload"]["session"]["media_id"] == xcoms["init"]["media_id"]

    secrets = setup.all_secrets()
    assert_absent(secrets, "XCom", xcoms)
    assert_absent(secrets, "the task state store", stores)
    assert_absent(secrets, "rendered template fields", rendered)

    hook = HOOKS[setup.api](setup.conn_id)
    protocol = hook.get_conn()
    for name, thing in (("hook", hook), ("protocol", protocol), ("client", protocol.client),
                        ("httpx client", protocol.client._client), ("auth", protocol.client._client.auth),
                        ("connection options", hook.options)):
        assert_absent(secrets, f"repr of the {name}", repr(thing))

    # Logs: chunkup never writes a secret itself; whatever anything else logged, Airflow's masker hides it.
    assert_masked(secrets)
    records = [(r.name, r.getMessage()) for r in caplog.records]
    assert any(name.startswith("airflow_provider_chunkup") for name, _ in records)
    for name, message in records:  # at DEBUG, oauthlib logs the OAuth 1.0a access token: only the masker hides it
        if "airflow_provider_chunkup" in name or name.startswith("airflow.task"):
            assert_absent(secrets, f"chunkup's log line {message!r}", message)
        assert_absent(secrets, f"the masked log line of {name}", redact(message))
    printed = capsys.readouterr().out  # the task logger's own output (operators, hooks, progress)
    assert f"Media {xcoms['upload']['media_id']}" in printed
    assert_absent(secrets, "the task's printed log", printed)


@pytest.mark.parametrize("api", ["youtube", "gcs"])
def test_google_session_uris_stay_in_the_task_state_store(api, emulator, set_connection, tmp_path, caplog, capsys,
                                                          loopback_only):
    """Google's session URI is a credential: masked, kept in the task state store for resume, never in XCom or
    rendered fields; the connection's secrets (client secret, refresh token, access tokens) appear nowhere."""
    caplog.set_level(logging.DEBUG)
    if api == "youtube":
        client_secret, refresh = secret("client-secret"), secret("refresh")
        emulator.config.youtube.oauth_clients = {"chunkup": {"secret": client_secret, "refresh_tokens": [refresh]}}
        conn_id = set_connection("secret_youtube", conn_type="chunkup_youtube", host=emulator.url, login="chunkup",
                                 password=client_secret, extra={"refresh_token": refresh, "chunk_size": 256 * 1024,
                                                                "oauth_endpoint": f"{emulator.url}/token"})
        secrets = [client_secret, refresh]
    else:
        token = secret("storage-access")
        emulator.config.gcs.access_tokens = [token]
        conn_id = set_connection("secret_gcs", conn_type="chunkup_gcs", host=emulator.url,
                                 extra={"bucket": "media", "access_token": token, "chunk_size": 256 * 1024})
        secrets = [token]
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00" * (MiB + 17))
    store = MemoryStore()
    context = {"params": {"source": str(path), "conn_id": conn_id}, "task_state_store": store}
    rendered, xcom = run_rendered(ChunkedUploadOperator(task_id="upload", source="{{ params.source }}",
                                                        conn_id="{{ params.conn_id }}"), context)
    sessions = httpx.get(f"{emulator.url}/_emulator/{api}/sessions").json()
    upload_ids = [s["upload_id"] for s in sessions]
    assert len(upload_ids) == 1 and xcom["size"] == path.stat().st_size
    assert_absent(secrets + upload_ids, "XCom", xcom)
    assert_absent(secrets + upload_ids, "rendered template fields", rendered)
    assert_absent(secrets, "the task state store", store)
    records = [(r.name, r.getMessage()) for r in caplog.records if not r.name.startswith("uvicorn")]  # the server's
    assert any(name.startswith("airflow_provider_chunkup") for name, _ in records)
    for name, message in records:
        if "airflow_provider_chunkup" in name or name.startswith("airflow.task"):
            assert_absent(secrets + upload_ids, f"chunkup's log line {message!r}", message)
        assert_absent(secrets + upload_ids, f"the masked log line of {name}", redact(message))  # httpx's too
    assert_absent(secrets + upload_ids, "the task's printed log", capsys.readouterr().out)


def test_runtime_access_token_is_masked_and_never_reaches_repr(emulator, set_connection, media_file):
    """The api.video access token obtained at run time: masked through mask_secret, hidden from every repr."""
    setup = apivideo_bearer(emulator, set_connection)
    hook = ApiVideoHook(setup.conn_id)
    result = hook.upload(str(media_file(10_000)))
    protocol = hook.get_conn()

    async def status() -> Any:
        async with protocol:
            return await protocol.status(result.media_id)

    asyncio.run(status())
    auth = protocol.client._client.auth
    assert isinstance(auth, ApiVideoBearerAuth) and auth._access in setup.runtime()  # a token was obtained
    assert_masked(setup.runtime())
    for thing in (auth, protocol, protocol.client, hook):
        assert_absent(setup.all_secrets(), f"repr of {type(thing).__name__}", repr(thing))


# -- failures -----------------------------------------------------------------------------------------

def _wrong(emulator: Any) -> None:
    """Make the emulator refuse the setup's credentials (each kind as its platform does)."""
    emulator.config.x.bearer_tokens = {secret("other")}
    emulator.config.x.oauth1_tokens = {secret("other"): secret("other")}
    emulator.config.apivideo.api_keys = {secret("other")}
    emulator.config.content_range.bearer_tokens = {secret("other")}
    emulator.config.tus.bearer_tokens = [secret("other")]
    emulator.config.vimeo.tokens = [secret("other")]
    emulator.config.cloudflare_stream.tokens = [secret("other")]
    emulator.config.meta.tokens = [secret("other")]
    emulator.config.tiktok.tokens = [secret("other")]
    emulator.config.linkedin.tokens = [secret("other")]


@pytest.mark.parametrize("make", [m for m in SETUPS if m is not apivideo_upload_token],
                         ids=[m.__name__ for m in SETUPS if m is not apivideo_upload_token])
def test_auth_failures_name_the_fix_but_no_secret(make, emulator, set_connection, media_file):
    setup = make(emulator, set_connection)
    _wrong(emulator)
    with pytest.raises(UploadFailedForGood) as raised:
        ChunkedUploadOperator(task_id="upload", conn_id=setup.conn_id,
                              source=str(media_file(100_000, setup.file_name))).execute({})
    cause = raised.value.__cause__
    assert isinstance(cause, AuthenticationFailed)
    assert "Check the" in str(cause)  # the fix is named
    for text in (str(raised.value), repr(raised.value), str(cause), repr(cause), json.dumps(cause.body, default=repr)):
        assert_absent(setup.secrets, "the authentication failure", text)


def test_x_test_connection_reports_no_secret(emulator, set_connection):
    setup = x_oauth2(emulator, set_connection)
    _wrong(emulator)
    ok, message = XMediaUploadHook(setup.conn_id).test_connection()
    assert not ok and "HTTP 401" in message
    assert_absent(setup.secrets, "test_connection's message", message)


def test_incomplete_oauth1_names_the_missing_fields_not_the_values(set_connection, emulator):
    consumer_secret, access_token = secret("x-consumer-secret"), secret("x-access-token")
    set_connection("half_oauth1", conn_type="chunkup_x", host=emulator.url, login="ck", password=consumer_secret,
                   extra={"auth_type": "oauth1_user", "access_token": access_token})
    with pytest.raises(ConfigurationError, match="lacks extra access_token_secret") as raised:
        XMediaUploadHook("half_oauth1").get_conn()
    assert_absent([consumer_secret, access_token], "the configuration error", str(raised.value))


# -- TLS ----------------------------------------------------------------------------------------------

class _Answer(http.server.BaseHTTPRequestHandler):
    """Answers like X's initialize, so only TLS can make an upload fail."""

    authorizations: list[str] = []

    def do_POST(self) -> None:
        self.authorizations.append(self.headers.get("Authorization", ""))
        body = json.dumps({"data": {"id": "1", "expires_after_secs": 60}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args: Any) -> None:
        pass


class _CountingTLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Answer)
        self.context = context
        self.connections = 0

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        self.connections += 1
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client refusing our certificate is the point


@pytest.fixture
def self_signed_https(tmp_path) -> Iterator[tuple[_CountingTLSServer, Path]]:
    cert, key = self_signed_cert(tmp_path, "chunkup test CA")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _CountingTLSServer(context)
    _Answer.authorizations = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_tls_is_verified_by_default(self_signed_https, set_connection, media_file):
    server, _ = self_signed_https
    url = f"https://127.0.0.1:{server.server_address[1]}"
    token = secret("x-bearer")
    set_connection("tls_x", conn_type="chunkup_x", host=url, password=token)
    hook = XMediaUploadHook("tls_x")

    verify = hook.get_conn().client._client._transport.tls_context
    assert verify.verify_mode == ssl.CERT_REQUIRED and verify.check_hostname

    with pytest.raises(ServerError, match=r"TLS certificate of 127\.0\.0\.1 could not be verified \(.*self[- ]signed"
                                          r".*point SSL_CERT_FILE at your CA's PEM file") as raised:
        hook.upload(str(media_file(10)))
    assert "RetryExhausted" not in type(raised.value).__name__
    assert server.connections == 1  # one handshake: a certificate that fails once fails again, so no retry
    assert _Answer.authorizations == []  # the token never went to the unverified server
    assert_absent([token], "the TLS failure", str(raised.value))


def test_a_private_ca_is_trusted_through_ssl_cert_file(self_signed_https, set_connection, media_file, monkeypatch):
    """A company CA (or a TLS-inspecting proxy's) is added to certifi's, never instead of verification."""
    server, cert = self_signed_https
    set_connection("tls_x", conn_type="chunkup_x", host=f"https://127.0.0.1:{server.server_address[1]}",
                   password=secret("x-bearer"))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    session = XMediaUploadHook("tls_x").init(str(media_file(10)), media_type="video/mp4")
    assert session.media_id == "1" and len(_Answer.authorizations) == 1
    monkeypatch.setenv("SSL_CERT_FILE", str(cert.parent / "missing.pem"))
    with pytest.raises(ConfigurationError, match=r"CA bundle .*missing\.pem .*cannot be loaded.*unset it"):
        XMediaUploadHook("tls_x").get_conn()


# -- plain http to a host that is not loopback --------------------------------------------------------

@pytest.mark.parametrize("api", ["x", "apivideo", "content_range"])
def test_plain_http_to_a_remote_host_is_refused_before_any_lookup(api, set_connection, media_file, loopback_only):
    set_connection("remote", conn_type=CONN_TYPES[api], host=f"http://{REMOTE_HOST}", password=secret("token"))
    with pytest.raises(UploadFailedForGood, match=r"over plain http, which would send credentials unencrypted\. Use "
                                                  r"https, or set allow_insecure_http=true"):
        ChunkedUploadOperator(task_id="upload", conn_id="remote", source=str(media_file(10))).execute({})
    assert loopback_only == []  # refused before DNS


@pytest.mark.parametrize("api", ["x", "apivideo", "content_range"])
def test_allow_insecure_http_is_accepted_and_the_request_goes_where_configured(api, set_connection, media_file,
                                                                                loopback_only):
    token = secret("token")
    set_connection("remote_ok", conn_type=CONN_TYPES[api], host=f"http://{REMOTE_HOST}", password=token,
                   extra={"allow_insecure_http": "true", "retry_max_attempts": 1})
    assert HOOKS[api]("remote_ok").get_conn().client.base_url == f"http://{REMOTE_HOST}"

    caught: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:  # stands in for the network: nothing leaves
        caught.append(request)
        return httpx.Response(401, json={"detail": "stopped by the test"})

    class Caught(HOOKS[api]):  # type: ignore[misc, valid-type]
        def build_protocol(self, conn: Any, options: Any, transport: Any = None) -> Any:
            return super().build_protocol(conn, options, transport=httpx.MockTransport(refuse))

    with pytest.raises(AuthenticationFailed):
        Caught("remote_ok").upload(str(media_file(10, "brochure.pdf" if api == "content_range" else "clip.mp4")))
    assert len(caught) == 1 and caught[0].url.scheme == "http" and caught[0].url.host == REMOTE_HOST
    assert loopback_only == []  # the mock answered: no lookup, no packet


def test_plain_http_to_loopback_needs_no_flag(emulator, set_connection):
    set_connection("local", conn_type="chunkup_x", host=emulator.url, password="t")
    assert XMediaUploadHook("local").get_conn().client.base_url == emulator.url
