"""The provider metadata Airflow reads, and Airflow actually finding the provider."""

import os
import subprocess
import sys
from pathlib import Path

from airflow_provider_chunkup import __version__
from airflow_provider_chunkup.get_provider_info import get_provider_info


def test_provider_info_shape():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-chunkup"
    assert info["versions"] == [__version__]
    conn, apivideo, content_range, tus, vimeo, cloudflare, youtube, gcs, *social = info["connection-types"]
    assert [c["connection-type"] for c in social] == ["chunkup_tiktok", "chunkup_linkedin", "chunkup_facebook",
                                                      "chunkup_instagram", "chunkup_facebook_reels"]
    for kind in social:  # each entry names its hook's class, which says the same connection type
        module, _, name = kind["hook-class-name"].rpartition(".")
        assert getattr(__import__(module, fromlist=[name]), name).conn_type == kind["connection-type"]
    assert youtube["connection-type"] == "chunkup_youtube" and gcs["connection-type"] == "chunkup_gcs"
    secrets = {n for n, f in youtube["conn-fields"].items() if f["schema"].get("format") == "password"}
    assert secrets == {"refresh_token", "access_token"}
    secrets = {n for n, f in gcs["conn-fields"].items() if f["schema"].get("format") == "password"}
    assert secrets == {"keyfile_dict", "access_token"}
    assert vimeo["connection-type"] == "chunkup_vimeo"
    assert vimeo["hook-class-name"] == "airflow_provider_chunkup.hooks.vimeo.VimeoUploadHook"
    assert cloudflare["connection-type"] == "chunkup_cloudflare_stream"
    assert cloudflare["hook-class-name"] == "airflow_provider_chunkup.hooks.cloudflare_stream.CloudflareStreamHook"
    assert cloudflare["ui-field-behaviour"]["relabeling"]["login"] == "Account id"
    for kind in (vimeo, cloudflare):  # the token is the connection's password: no secret in the extra
        assert not [n for n, f in kind["conn-fields"].items() if f["schema"].get("format") == "password"]
    assert tus["connection-type"] == "chunkup_tus"
    assert tus["hook-class-name"] == "airflow_provider_chunkup.hooks.tus.TusUploadHook"
    assert {n for n, f in tus["conn-fields"].items() if f["schema"].get("format") == "password"} == {"headers"}
    assert content_range["connection-type"] == "chunkup_content_range"
    assert conn["connection-type"] == "chunkup_x"
    assert apivideo["connection-type"] == "chunkup_apivideo"
    assert apivideo["hook-class-name"] == "airflow_provider_chunkup.hooks.apivideo.ApiVideoHook"
    secrets = {n for n, f in apivideo["conn-fields"].items() if f["schema"].get("format") == "password"}
    assert secrets == {"upload_token"}
    assert conn["hook-class-name"] == "airflow_provider_chunkup.hooks.x.XMediaUploadHook"
    secret_fields = {name for name, field in conn["conn-fields"].items() if field["schema"].get("format") == "password"}
    assert secret_fields == {"access_token", "access_token_secret"}
    assert set(conn["ui-field-behaviour"]["hidden-fields"]) <= {"description", "host", "port", "login", "password",
                                                                  "schema", "extra"}


def test_every_listed_module_imports():
    import importlib

    info = get_provider_info()
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)


def test_extra_links_are_operator_links_the_operators_carry():
    import importlib

    from airflow.sdk import BaseOperatorLink

    from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator, ChunkUploadFinalizeOperator
    from airflow_provider_chunkup.operators.x_post import XCreatePostOperator

    carriers = {"Uploaded media": (ChunkedUploadOperator, ChunkUploadFinalizeOperator),
                "Post on X": (XCreatePostOperator,)}
    paths = get_provider_info()["extra-links"]
    assert len(paths) == len(carriers)
    for path in paths:
        module, _, name = path.rpartition(".")
        link = getattr(importlib.import_module(module), name)
        assert issubclass(link, BaseOperatorLink) and link.name in carriers
        for operator in carriers[link.name]:
            assert [type(x) for x in operator.operator_extra_links] == [link]


def test_airflow_lists_the_provider_and_its_connection_type():
    airflow = Path(sys.executable).with_name("airflow")
    env = os.environ.copy()
    listed = subprocess.run([str(airflow), "providers", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert "airflow-provider-chunkup" in listed.stdout, listed.stderr[-2000:]
    hooks = subprocess.run([str(airflow), "providers", "hooks"], env=env, capture_output=True, text=True, timeout=120)
    assert "airflow_provider_chunkup.hooks.x.XMediaUploadHook" in hooks.stdout
    links = subprocess.run([str(airflow), "providers", "links"], env=env, capture_output=True, text=True, timeout=120)
    assert "airflow_provider_chunkup.links.UploadedMediaLink" in links.stdout, links.stderr[-2000:]
