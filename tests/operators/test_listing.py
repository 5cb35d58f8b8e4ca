"""ListSourcesOperator: the files under a prefix, read through the sources' connection, for fan-outs."""

import boto3
import pytest

from airflow_provider_chunkup.errors import SourceError
from airflow_provider_chunkup.operators.listing import ListSourcesOperator


@pytest.fixture
def s3(s3_endpoint, s3_bucket):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_lists_non_empty_objects_under_the_prefix_through_the_connection(s3, s3_bucket):
    for key, body in {"in/b.MP4": b"bb", "in/a.mp4": b"a", "in/deeper/c.mov": b"c", "in/notes.txt": b"t",
                      "in/folder/": b"", "input-other/x.mp4": b"x"}.items():
        s3.put_object(Bucket="media", Key=key, Body=body)
    listed = ListSourcesOperator(task_id="list", prefix="s3://media/in/", source_conn_id=s3_bucket).execute({})
    assert listed == ["s3://media/in/a.mp4", "s3://media/in/b.MP4", "s3://media/in/deeper/c.mov",
                      "s3://media/in/notes.txt"]
    videos = ListSourcesOperator(task_id="list", prefix="s3://media/in", source_conn_id=s3_bucket,
                                 suffixes=[".mp4", ".mov"]).execute({})
    assert videos == ["s3://media/in/a.mp4", "s3://media/in/b.MP4", "s3://media/in/deeper/c.mov"]


def test_an_empty_prefix_fails_clearly_unless_allowed(s3, s3_bucket):
    s3.put_object(Bucket="media", Key="typo/marker/", Body=b"")
    with pytest.raises(SourceError, match=r"no non-empty file under s3://media/typo/ \(read with connection "
                                          r"'minio'\).*allow_empty=True"):
        ListSourcesOperator(task_id="list", prefix="s3://media/typo/", source_conn_id=s3_bucket).execute({})
    assert ListSourcesOperator(task_id="list", prefix="s3://media/typo/", source_conn_id=s3_bucket,
                               allow_empty=True).execute({}) == []


def test_wrong_credentials_are_named(s3rver_endpoint, set_connection):
    """s3rver checks access keys (moto does not): listing with a wrong key id is refused by the store."""
    set_connection("s3_wrong", conn_type="aws", login="NOT-A-KEY", password="secret-value",
                   extra={"region_name": "us-east-1", "endpoint_url": s3rver_endpoint})
    with pytest.raises(SourceError, match=r"s3://media/in/ cannot be read: the store denied access.*source_conn_id"
                       ) as failure:
        ListSourcesOperator(task_id="list", prefix="s3://media/in/", source_conn_id="s3_wrong").execute({})
    assert "secret-value" not in str(failure.value)


def test_lists_a_local_directory(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.mp4").write_bytes(b"b")
    (tmp_path / "a.mp4").write_bytes(b"a")
    (tmp_path / "empty.mp4").write_bytes(b"")
    listed = ListSourcesOperator(task_id="list", prefix=str(tmp_path)).execute({})
    assert listed == [f"file://{tmp_path}/a.mp4", f"file://{tmp_path}/sub/b.mp4"]
