"""Credential URLs: the URL and its named credential parameters are handed to the masker, once per URL."""

from airflow_provider_chunkup.protocols.secret_urls import UrlMasker, secret_parts

SIGNED = "https://uploads.example/part/3?ca=vector_feedshare&m=AQJbrN86Zm265g&ut=2yL9Yq1&v=beta"


def test_the_url_then_only_the_named_parameters():
    assert list(secret_parts(SIGNED, ("m", "ut"))) == [SIGNED, "AQJbrN86Zm265g", "2yL9Yq1"]
    assert list(secret_parts(SIGNED)) == [SIGNED]  # a path-only credential (a tus link): the URL alone


def test_each_url_is_masked_once_and_nothing_without_a_masker():
    masked: list[str] = []
    mask = UrlMasker(masked.append, ("ut",))
    for _ in range(3):  # every chunk of an upload names its URL again
        mask(SIGNED)
    assert masked == [SIGNED, "2yL9Yq1"]
    mask(SIGNED.replace("/3?", "/4?"))
    assert len(masked) == 4
    UrlMasker(None, ("ut",))(SIGNED)  # no masker given: nothing to call, nothing raised


def test_an_empty_parameter_is_not_a_secret():
    masked: list[str] = []
    UrlMasker(masked.append, ("upload_id",))("https://upload.example/v?upload_id=&x=1")
    assert masked == ["https://upload.example/v?upload_id=&x=1"]
