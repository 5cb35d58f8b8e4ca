"""The emulated APIs as the app holds them: one config section each, and a core that knows none of them."""

from __future__ import annotations

import ast
from pathlib import Path

from airflow_provider_chunkup.emulators import EmulatorConfig
from airflow_provider_chunkup.emulators.app import APIS, build_app
from airflow_provider_chunkup.emulators.core import api as core_api
from airflow_provider_chunkup.emulators.core.api import EmulatedApi

CORE = Path(core_api.__file__).parent


def test_every_api_has_its_config_section():
    config = EmulatorConfig()
    assert list(config.sections()) == [api.name for api in APIS]
    for api in APIS:
        assert issubclass(api, EmulatedApi)
        assert type(getattr(config, api.name)) is api.config_type


def test_each_api_is_on_the_app_state_by_name(tmp_path):
    app = build_app(EmulatorConfig(data_dir=tmp_path))
    for api in APIS:
        assert type(getattr(app.state, api.name)) is api


def test_core_imports_nothing_above_it():
    """core/ reaches an API only through EmulatedApi: no import of an API package, the config or the app."""
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text())
        upward = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 1]
        absolute = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0
                    and (node.module or "").startswith("airflow_provider_chunkup")]
        assert not upward and not absolute, f"{path.name} imports {upward + absolute}"


def test_an_injected_429_is_dressed_by_the_one_api_serving_the_path(tmp_path):
    """Paths of the APIs do not overlap: Vimeo lives under its prefix, Cloudflare Stream under /client/v4."""
    app = build_app(EmulatorConfig(data_dir=tmp_path))
    paths = {
        "apivideo": "/videos/vi1/source", "tus": "/files/abc", "vimeo": "/vimeo/videos/1",
        "cloudflare_stream": "/client/v4/accounts/a/stream/b", "youtube": "/upload/youtube/v3/videos",
        "gcs": "/upload/storage/v1/b/media/o",
    }  # fmt: skip
    paths["apivideo_token"] = "/upload"
    paths["tiktok"], paths["tiktok_upload"] = "/v2/post/publish/video/init/", "/tiktok-upload/v_pub_file~v2-1.1"
    paths["linkedin"], paths["linkedin_upload"] = "/rest/videos/urn:li:video:C5F1", "/linkedin-upload/C5F1/0"
    paths["vimeo_link"], paths["cloudflare_direct"] = "/vimeo/upload/abc", "/cloudflare/tus/abc"
    owners = {"vimeo_link": "vimeo", "cloudflare_direct": "cloudflare_stream", "apivideo_token": "apivideo",
              "tiktok_upload": "tiktok", "linkedin_upload": "linkedin"}
    paths["meta"], paths["meta_rupload"] = "/v23.0/act_1/advideos", "/ig-api-upload/v23.0/17841"
    paths["meta_reels"] = "/video-upload/v23.0/1234"
    owners.update(meta_rupload="meta", meta_reels="meta")
    for key, path in paths.items():
        claimed = [api.name for api in APIS if getattr(app.state, api.name).rate_limited("PATCH", path, 1)]
        assert claimed == [owners.get(key, key)], path
