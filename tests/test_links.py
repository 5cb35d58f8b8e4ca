"""The "Uploaded media" operator link: the URL per API, and the link reading it without ever failing."""

import hashlib

import httpx
import pytest

from airflow_provider_chunkup.links import UploadedMediaLink
from airflow_provider_chunkup.operators.upload import (
    ChunkedUploadOperator,
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)
from airflow_provider_chunkup.protocols.chunking import MiB
from airflow_provider_chunkup.protocols.links import media_url
from airflow_provider_chunkup.protocols.session import UploadResult


def result(api: str, **details) -> dict:
    return UploadResult(api=api, media_id="42", size=1, details=details).to_dict()


@pytest.mark.parametrize(("upload", "base_url", "expected"), [
    (result("apivideo", assets={"player": "https://embed.api.video/vod/vi42"}), "https://ws.api.video",
     "https://embed.api.video/vod/vi42"),
    (result("apivideo", assets={"player": "http://127.0.0.1:8787/_emulator/apivideo/embed/vod/vi42"}),
     "http://127.0.0.1:8787", "http://127.0.0.1:8787/_emulator/apivideo/videos/42"),
    (result("apivideo"), "https://ws.api.video", None),  # no assets (a delegated upload not yet seen)
    (result("x"), "http://127.0.0.1:8787/", "http://127.0.0.1:8787/_emulator/x/media/42"),
    (result("x"), "https://api.x.com", None),                # X has no page for a media without a post
    (result("x"), "https://upload.twitter.com", None),
    (result("x"), None, None),
    (result("content_range", url="https://community.example.com/media/42.jpg"), None,
     "https://community.example.com/media/42.jpg"),
    (result("content_range", url="javascript:alert(1)"), None, None),  # only http(s) links, whatever the answer
    (result("content_range"), None, None),
])
def test_media_url_per_api(upload, base_url, expected):
    assert media_url(upload, base_url) == expected


class _Operator:
    def __init__(self, **attributes):
        self.__dict__.update(attributes)


class _Broken:
    @property
    def uploaded_media_url(self):
        raise RuntimeError("boom")


def test_get_link_reads_what_the_operator_kept_and_never_raises():
    link = UploadedMediaLink()
    assert link.name == "Uploaded media" and link.xcom_key == "_link_UploadedMediaLink"
    assert link.get_link(_Operator(uploaded_media_url="https://x.test/m"), ti_key=None) == "https://x.test/m"
    assert link.get_link(_Operator(), ti_key=None) == ""  # the task failed before a result
    assert link.get_link(_Operator(uploaded_media_url=None), ti_key=None) == ""  # no page for this media
    assert link.get_link(_Broken(), ti_key=None) == ""


def test_single_task_upload_links_to_a_page_that_shows_the_media(x_connection, media_file):
    x_connection()
    path = media_file(3 * MiB)
    op = ChunkedUploadOperator(task_id="upload", source=str(path))
    uploaded = op.execute({})
    url = UploadedMediaLink().get_link(op, ti_key=None)
    assert url.endswith(f"/_emulator/x/media/{uploaded['media_id']}")
    assert httpx.get(url).json()["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_content_range_finalize_links_to_the_media_url_the_site_returned(content_range_connection, media_file):
    content_range_connection()
    path = media_file(300 * 1024, name="photo.jpg")
    session = ChunkUploadInitOperator(task_id="init", conn_id="chunkup_content_range_default",
                                      source=str(path)).execute({})
    appended = ChunkUploadAppendOperator(task_id="append", session=session).execute({})
    finalize = ChunkUploadFinalizeOperator(task_id="finalize", session=appended)
    media = finalize.execute({})
    url = UploadedMediaLink().get_link(finalize, ti_key=None)
    assert url == media["details"]["url"]
    assert hashlib.sha256(httpx.get(url).content).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_finalize_has_no_link(x_connection):
    x_connection()
    finalize = ChunkUploadFinalizeOperator(task_id="finalize", session={"api": "x"})
    with pytest.raises(Exception, match="missing media_id"):
        finalize.execute({})
    assert UploadedMediaLink().get_link(finalize, ti_key=None) == ""
