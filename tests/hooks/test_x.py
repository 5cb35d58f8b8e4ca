"""Connection parsing for XMediaUploadHook: JSON and URI forms, auth kinds, clear errors."""

import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.protocols.auth import BearerAuth, OAuth1Auth


def test_json_connection_oauth2(set_connection):
    set_connection("x_json", conn_type="chunkup_x", host="http://127.0.0.1:8787", password="user-token",
                   extra={"chunk_size": 1048576, "max_in_flight": 2, "size_limits": {"video": 2 << 30}})
    hook = XMediaUploadHook("x_json")
    protocol = hook.get_conn()
    assert protocol.client.base_url == "http://127.0.0.1:8787"
    assert protocol.dialect == "v2"
    assert isinstance(protocol.client._client.auth, BearerAuth)
    assert protocol.size_limits["video"] == 2 << 30
    assert hook.chunk_size() == 1048576 and hook.max_in_flight() == 2
    assert hook.chunk_size(5) == 5 and hook.max_in_flight(1) == 1


def test_uri_connection_coerces_string_extras(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_X_URI",
        "chunkup-x://ck:cs@127.0.0.1:8787/http?api_version=v1.1&access_token=at&access_token_secret=ats"
        "&chunk_size=2097152&max_in_flight=4&retry_max_attempts=2&timeout=30",
    )
    hook = XMediaUploadHook("x_uri")  # URI schemes cannot hold "_": Airflow maps chunkup-x to chunkup_x
    protocol = hook.get_conn()
    assert protocol.client.base_url == "http://127.0.0.1:8787"
    assert protocol.dialect == "v1.1"
    assert isinstance(protocol.client._client.auth, OAuth1Auth)
    assert protocol.client.retry.max_attempts == 2
    assert hook.chunk_size() == 2097152 and hook.max_in_flight() == 4


def test_empty_host_means_x(set_connection):
    set_connection("x_prod", conn_type="chunkup_x", password="t")
    assert XMediaUploadHook("x_prod").get_conn().client.base_url == "https://api.x.com"
    set_connection("x_v1", conn_type="chunkup_x", password="t", extra={"api_version": "v1.1"})
    assert XMediaUploadHook("x_v1").get_conn().client.base_url == "https://upload.twitter.com"


def test_bare_host_gets_https(set_connection):
    set_connection("x_bare", conn_type="chunkup_x", host="api.x.com", password="t")
    assert XMediaUploadHook("x_bare").get_conn().client.base_url == "https://api.x.com"


def test_ui_prefixed_extra_fields_are_read(set_connection):
    set_connection("x_ui", conn_type="chunkup_x", password="t", extra={"extra__chunkup_x__chunk_size": "3000000"})
    assert XMediaUploadHook("x_ui").chunk_size() == 3000000


@pytest.mark.parametrize(("fields", "message"), [
    ({"conn_type": "chunkup_x"}, "no password"),
    ({"conn_type": "chunkup_x", "login": "ck", "password": "cs", "extra": {"auth_type": "oauth1_user"}},
     "lacks extra access_token, extra access_token_secret"),
    ({"conn_type": "chunkup_x", "password": "t", "extra": {"auth_type": "basic"}}, "auth_type must be"),
    ({"conn_type": "chunkup_x", "password": "t", "extra": {"api_version": "v3"}}, "api_version must be"),
    ({"conn_type": "chunkup_x", "password": "t", "extra": {"chunk_size": "big"}}, "whole number"),
    ({"conn_type": "chunkup_x", "password": "t", "extra": {"size_limits": "{nope"}}, "JSON object"),
    ({"conn_type": "chunkup_x", "password": "t", "host": "ftp://x.com"}, "not a valid http"),
    ({"conn_type": "chunkup_x", "password": "t", "host": "http://uploads.example.com"}, "allow_insecure_http"),
])
def test_connection_errors_name_the_fix(set_connection, fields, message):
    set_connection("x_bad", **fields)
    with pytest.raises(ConfigurationError, match=message):
        XMediaUploadHook("x_bad").get_conn()


def test_insecure_http_allowed_when_asked(set_connection):
    set_connection("x_http", conn_type="chunkup_x", password="t", host="http://uploads.example.com",
                   extra={"allow_insecure_http": "true"})
    assert XMediaUploadHook("x_http").get_conn().client.base_url == "http://uploads.example.com"


def test_test_connection_against_the_emulator(x_connection, set_connection, emulator):
    ok, message = XMediaUploadHook(x_connection("good")).test_connection()
    assert ok, message
    assert "Authenticated to X (v2)" in message
    ok, message = XMediaUploadHook(x_connection("good_oauth1", auth="oauth1", api_version="v1.1")).test_connection()
    assert ok and "v1.1" in message
    set_connection("bad", conn_type="chunkup_x", host=emulator.url, password="wrong-token")
    ok, message = XMediaUploadHook("bad").test_connection()
    assert not ok and "HTTP 401" in message
    set_connection("typo", conn_type="chunkup_x", host=emulator.url, password="t", extra={"api_version": "v9"})
    ok, message = XMediaUploadHook("typo").test_connection()
    assert not ok and "api_version" in message
