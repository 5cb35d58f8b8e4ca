"""The example DAGs: they import cleanly, and the X upload DAG runs end to end with dag.test()."""

import hashlib
import json
import os
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


def load_dags():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_every_example_dag_imports():
    bag = load_dags()
    assert bag.import_errors == {}
    assert {"chunkup_x_upload", "chunkup_x_daily_clip", "chunkup_apivideo_upload", "chunkup_brochure_producer",
            "chunkup_brochure_upload", "chunkup_s3_video_producer", "chunkup_s3_video_upload", "chunkup_split_upload",
            "chunkup_s3_fanout", "chunkup_tus_platforms_upload", "chunkup_youtube_upload",
            "chunkup_social_fanout"} <= set(bag.dag_ids)


@pytest.mark.dag
@pytest.mark.parametrize("with_subtitles", [True, False], ids=["with-subtitles", "without"])
def test_x_upload_dag_end_to_end(with_subtitles, airflow_db, x_connection, received, media_file, emulator):
    import httpx
    from airflow.utils.state import DagRunState

    x_connection()
    emulator.config.x.processing_seconds = 2.0
    path = media_file(12 * 1024 * 1024 + 5)
    conf = {"source": str(path), "alt_text": "Random frames."}
    if with_subtitles:
        conf["subtitles"] = str(path.with_name("clip.srt"))
        path.with_name("clip.srt").write_text("1\n00:00:00,000 --> 00:00:02,000\nHello.\n")
    dag = load_dags().get_dag("chunkup_x_upload")
    run = dag.test(run_conf=conf)
    assert run.state == DagRunState.SUCCESS
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    subtitles_state = "success" if with_subtitles else "skipped"
    assert states == {"init": "success", "append": "success", "finalize": "success",
                      "wait_for_processing": "success", "has_subtitles": "success",
                      "upload_subtitles": subtitles_state, "post": "success"}
    result = run.get_task_instance("finalize").xcom_pull(task_ids="finalize")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result["sha256"] == sha
    media = received(result["media_id"])
    assert media["sha256"] == sha and media["processing_state"] == "succeeded"
    # ...then posted, with its alt text and (when the run named one) its subtitle track
    posted = run.get_task_instance("post").xcom_pull(task_ids="post")
    (stored,) = httpx.get(f"{emulator.url}/_emulator/x/posts").json()
    assert stored["id"] == posted["post_id"] and stored["media_ids"] == [result["media_id"]]
    assert stored["text"] == posted["text"] == f"New video, uploaded by chunkup ({run.run_id})"
    assert media["alt_text"] == "Random frames."
    if with_subtitles:
        track = run.get_task_instance("upload_subtitles").xcom_pull(task_ids="upload_subtitles")
        assert media["subtitles"] == [{"media_id": track["media_id"], "language_code": "EN",
                                       "display_name": "English"}]
    else:
        assert media["subtitles"] == []


@pytest.mark.dag
def test_apivideo_dag_end_to_end(airflow_db, apivideo_connection, media_file, emulator):
    import httpx
    from airflow.utils.state import DagRunState

    apivideo_connection()
    emulator.config.apivideo.encoding_seconds = 2.0
    emulator.config.apivideo.playable_after_secs = 1.0
    path = media_file(40 * 1024 * 1024 + 3)  # 3 parts of 16 MiB
    dag = load_dags().get_dag("chunkup_apivideo_upload")
    run = dag.test(run_conf={"source": str(path), "title": "from dag.test"})
    assert run.state == DagRunState.SUCCESS
    result = run.get_task_instance("upload_last_part").xcom_pull(task_ids="upload_last_part")
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}").json()
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result["sha256"]
    assert got["title"] == "from dag.test"
    assert result["details"]["assets"]["hls"]


@pytest.mark.dag
def test_tus_platforms_dag_end_to_end(airflow_db, vimeo_connection, cloudflare_connection, media_file, emulator):
    """One video to Vimeo and to Cloudflare Stream, each sensor following the encode to its end."""
    import httpx
    from airflow.utils.state import DagRunState

    vimeo_connection()
    cloudflare_connection()
    emulator.config.vimeo.transcode_secs = 1.0
    emulator.config.cloudflare_stream.queued_secs = 0.5
    emulator.config.cloudflare_stream.encode_secs = 1.0
    path = media_file(60 * 1024 * 1024 + 5)  # Vimeo: 4 chunks of 16 MiB; Stream: 2 of 50 MiB
    dag = load_dags().get_dag("chunkup_tus_platforms_upload")
    run = dag.test(run_conf={"source": str(path), "name": "from dag.test", "privacy": "nobody"})
    assert run.state == DagRunState.SUCCESS
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    vimeo = run.get_task_instance("upload_to_vimeo").xcom_pull(task_ids="upload_to_vimeo")
    got = httpx.get(f"{emulator.url}/_emulator/vimeo/videos/{vimeo['media_id']}").json()
    assert got["sha256"] == sha == vimeo["sha256"] and got["name"] == "from dag.test"
    assert got["privacy"]["view"] == "nobody" and got["transcode_status"] == "complete"
    stream = run.get_task_instance("upload_to_stream").xcom_pull(task_ids="upload_to_stream")
    got = httpx.get(f"{emulator.url}/_emulator/cloudflare_stream/videos/{stream['media_id']}").json()
    assert got["sha256"] == sha == stream["sha256"] and got["meta"]["dag"] == "chunkup_tus_platforms_upload"
    assert got["state"] == "ready" and got["max_duration_seconds"] == 3600
    for sensor in ("wait_for_vimeo_transcode", "wait_until_stream_ready"):
        assert run.get_task_instance(sensor).state == "success"


@pytest.mark.dag
@pytest.mark.parametrize("with_captions", [True, False], ids=["with-captions", "without"])
def test_youtube_dag_end_to_end(with_captions, airflow_db, youtube_connection, media_file, emulator, tmp_path):
    """A private upload in one task, the sensor until processed, the thumbnail, and captions when given."""
    import httpx
    from airflow.utils.state import DagRunState

    youtube_connection()
    emulator.config.youtube.processing_secs = 1.0
    path = media_file(20 * 1024 * 1024 + 3)  # 2 chunks of 16 MiB
    image = tmp_path / "cover.jpg"
    image.write_bytes(b"\xff\xd8\xff" + os.urandom(50_000))
    captions = tmp_path / "en.vtt"
    captions.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n")
    dag = load_dags().get_dag("chunkup_youtube_upload")
    run = dag.test(run_conf={"source": str(path), "thumbnail": str(image), "title": "from dag.test",
                             "captions": str(captions) if with_captions else ""})
    assert run.state == DagRunState.SUCCESS
    result = run.get_task_instance("upload_video").xcom_pull(task_ids="upload_video")
    got = httpx.get(f"{emulator.url}/_emulator/youtube/videos/{result['media_id']}").json()
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result["sha256"]
    assert got["snippet"]["title"] == "from dag.test" and got["status"]["privacyStatus"] == "private"
    assert got["thumbnail"]["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert len(got["captions"]) == (1 if with_captions else 0)
    assert "session_uri" not in json.dumps(result) and "upload_id" not in json.dumps(result)
    assert run.get_task_instance("add_captions").state == ("success" if with_captions else "skipped")


@pytest.mark.dag
def test_social_fanout_dag_publishes_one_video_on_six_branches(airflow_db, x_connection, set_connection, received,
                                                                media_file, emulator):
    """Facebook (video and Reel), Instagram, TikTok, LinkedIn and X: each branch uploads the same bytes, waits
    for processing and publishes, through the emulators of all five platforms."""
    import httpx
    from airflow.utils.state import DagRunState

    x_connection()
    for api, conn_type, extra in (
            ("facebook", "chunkup_facebook", {"target": "page:1234"}),
            ("facebook_reels", "chunkup_facebook_reels", {"page_id": "1234"}),
            ("instagram", "chunkup_instagram", {"ig_user_id": "17841400000000001"}),
            ("tiktok", "chunkup_tiktok", {}),
            ("linkedin", "chunkup_linkedin", {"owner": "urn:li:organization:2414183"})):
        token = {"tiktok": "tiktok-token", "linkedin": "linkedin-token"}.get(api, "meta-token")
        set_connection(f"{conn_type}_default", conn_type=conn_type, host=emulator.url, password=token, extra=extra)
    emulator.config.meta.window_bytes = 4 * 1024 * 1024  # Graph dictates 4 MiB windows: four transfers
    emulator.config.x.processing_seconds = 1.0
    for section in (emulator.config.meta, emulator.config.tiktok, emulator.config.linkedin):
        section.processing_secs = 1.0
    path = media_file(14 * 1024 * 1024 + 5)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    caption = "Launch day (take 2) #chunkup"
    run = load_dags().get_dag("chunkup_social_fanout").test(run_conf={"source": str(path), "caption": caption})
    assert run.state == DagRunState.SUCCESS
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"} and len(states) == 16

    def result(task: str) -> dict:
        return run.get_task_instance(task).xcom_pull(task_ids=task)

    def control(path: str) -> dict:
        return httpx.get(f"{emulator.url}/_emulator/{path}").json()

    for task in ("upload_to_facebook", "upload_to_facebook_reel", "upload_to_instagram", "upload_to_tiktok",
                 "upload_to_linkedin", "upload_to_x"):
        assert result(task)["sha256"] == sha and result(task)["size"] == path.stat().st_size, task

    video = control(f"meta/videos/{result('upload_to_facebook')['media_id']}")
    assert video["sha256"] == sha and video["transfers"] == 4 and video["published"] == "true"  # a form field
    reel = control(f"meta/videos/{result('upload_to_facebook_reel')['media_id']}")
    assert reel["sha256"] == sha and reel["video_state"] == "PUBLISHED" and reel["description"] == caption
    container = control(f"meta/containers/{result('upload_to_instagram')['media_id']}")
    assert container["sha256"] == sha and container["caption"] == caption and container["status_code"] == "PUBLISHED"
    assert result("publish_to_instagram")["id"]
    post = control(f"tiktok/posts/{result('upload_to_tiktok')['media_id']}")
    assert post["sha256"] == sha and post["kind"] == "direct" and post["status"] == "PUBLISH_COMPLETE"
    assert post["post_info"]["privacy_level"] == "SELF_ONLY" and post["total_chunk_count"] == 1  # merged
    linkedin = control(f"linkedin/videos/{result('upload_to_linkedin')['media_id']}")
    assert linkedin["sha256"] == sha and len(linkedin["parts"]) == 4 and linkedin["status"] == "AVAILABLE"
    (shared,) = control("linkedin/posts")
    assert shared["media"] == result("upload_to_linkedin")["media_id"] and not shared["truncated"]
    assert shared["text"] == caption  # escaped as LinkedIn's little text wants, so shown as written
    x_media = received(result("upload_to_x")["media_id"])
    (tweet,) = control("x/posts")
    assert x_media["sha256"] == sha and tweet["media_ids"] == [result("upload_to_x")["media_id"]]
    assert tweet["text"] == caption


@pytest.mark.dag
def test_brochure_dags_end_to_end(airflow_db, content_range_connection, emulator):
    import httpx
    from airflow.utils.state import DagRunState

    content_range_connection()
    bag = load_dags()
    upload_dag = bag.get_dag("chunkup_brochure_upload")
    (asset,) = upload_dag.timetable.asset_condition.objects  # scheduled on the producer's Asset
    assert asset.name == "chunkup_latest_brochure"
    produced = bag.get_dag("chunkup_brochure_producer").test()
    assert produced.state == DagRunState.SUCCESS
    run = upload_dag.test()
    assert run.state == DagRunState.SUCCESS
    media = run.get_task_instance("complete_upload").xcom_pull(task_ids="complete_upload")
    path = Path(os.environ["CHUNKUP_BROCHURE"])  # one path for the run: see conftest
    got = httpx.get(f"{emulator.url}/_emulator/content-range/uploads/{media['details']['upload_id']}").json()
    assert got["complete"] and got["md5"] == hashlib.md5(path.read_bytes()).hexdigest() == media["md5"]
    assert media["details"]["type"] == "doc"


@pytest.mark.dag
def test_s3_asset_dags_end_to_end(airflow_db, s3_bucket, set_connection, apivideo_connection, emulator):
    import httpx
    from airflow.utils.state import DagRunState

    set_connection("chunkup_s3_source", **json.loads(os.environ[f"AIRFLOW_CONN_{s3_bucket.upper()}"]))
    apivideo_connection()
    emulator.config.apivideo.playable_after_secs = 0.5
    bag = load_dags()
    upload_dag = bag.get_dag("chunkup_s3_video_upload")
    (asset,) = upload_dag.timetable.asset_condition.objects
    assert asset.name == "chunkup_latest_video"
    assert bag.get_dag("chunkup_s3_video_producer").test().state == DagRunState.SUCCESS
    run = upload_dag.test()
    assert run.state == DagRunState.SUCCESS
    result = run.get_task_instance("upload_from_s3").xcom_pull(task_ids="upload_from_s3")
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}").json()
    assert got["complete"] and got["sha256"] == result["sha256"] and got["size"] == 24 * 1024 * 1024


def link_of(run, task_id: str, map_index: int = -1) -> str:
    """The "Uploaded media" link the worker stored for the UI (the API server reads this XCom)."""
    return run.get_task_instance(task_id, map_index=map_index).xcom_pull(
        task_ids=task_id, map_indexes=map_index, key="_link_UploadedMediaLink")


@pytest.mark.dag
@pytest.mark.parametrize("api", ["x", "apivideo"])
def test_split_upload_dag_sends_one_media_from_mapped_appends(api, airflow_db, x_connection, apivideo_connection,
                                                              media_file, emulator):
    import httpx
    from airflow.utils.state import DagRunState

    if api == "x":
        conn_id, chunk_size, size = x_connection(), 1024 * 1024, 10 * 1024 * 1024 + 5  # 11 segments
    else:
        emulator.config.apivideo.playable_after_secs = 0.5
        conn_id, chunk_size, size = apivideo_connection(), 5 * 1024 * 1024, 25 * 1024 * 1024 + 3  # 6 parts
    path = media_file(size)
    run = load_dags().get_dag("chunkup_split_upload").test(run_conf={
        "source": str(path), "conn_id": conn_id, "source_conn_id": None, "chunk_size": chunk_size, "parts": 4})
    assert run.state == DagRunState.SUCCESS
    appends = [ti for ti in run.get_task_instances() if ti.task_id == "append"]
    assert sorted(ti.map_index for ti in appends) == [0, 1, 2, 3] and {ti.state for ti in appends} == {"success"}
    result = run.get_task_instance("finalize").xcom_pull(task_ids="finalize")
    whole = hashlib.sha256(path.read_bytes()).hexdigest()
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    if api == "x":
        got = httpx.get(f"{emulator.url}/_emulator/x/media/{result['media_id']}").json()
        assert routes["POST /2/media/upload/initialize"]["requests"] == 1  # one remote media
        assert link_of(run, "finalize") == f"{emulator.url}/_emulator/x/media/{result['media_id']}"
    else:
        got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}").json()
        assert routes["POST /videos"]["requests"] == 1
        assert link_of(run, "finalize") == f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}"
    assert got["sha256"] == whole and result["size"] == size
    assert result["sha256"] is None  # no task read the whole file: one digest per range instead
    assert result["range_digests"][0]["offset"] == 0
    assert sum(r["length"] for r in result["range_digests"]) == size
    data = path.read_bytes()
    for r in result["range_digests"]:
        assert r["sha256"] == hashlib.sha256(data[r["offset"]: r["offset"] + r["length"]]).hexdigest()
    assert run.get_task_instance("wait_for_processing").state == "success"


@pytest.mark.dag
def test_s3_fanout_dag_uploads_every_object_under_the_prefix(airflow_db, s3_bucket, s3_endpoint, apivideo_connection,
                                                             emulator):
    import boto3
    import httpx
    from airflow.utils.state import DagRunState

    apivideo_connection()
    emulator.config.apivideo.playable_after_secs = 0.5
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    objects = {f"batch/clip-{i}.mp4": os.urandom(1024 * 1024 + i) for i in range(3)}
    objects["batch/nested/clip-3.mp4"] = os.urandom(2 * 1024 * 1024)
    for key, body in objects.items():
        s3.put_object(Bucket="media", Key=key, Body=body)
    s3.put_object(Bucket="media", Key="batch/empty/", Body=b"")       # a folder marker: nothing to upload
    s3.put_object(Bucket="media", Key="elsewhere/other.mp4", Body=b"x" * 10)  # outside the prefix
    run = load_dags().get_dag("chunkup_s3_fanout").test(run_conf={"prefix": "s3://media/batch/",
                                                                  "source_conn_id": s3_bucket})
    assert run.state == DagRunState.SUCCESS
    listed = run.get_task_instance("list_objects").xcom_pull(task_ids="list_objects")
    assert listed == sorted(f"s3://media/{key}" for key in objects)
    uploads = sorted((ti for ti in run.get_task_instances() if ti.task_id == "upload"), key=lambda ti: ti.map_index)
    assert [ti.state for ti in uploads] == ["success"] * len(objects)
    assert [ti.rendered_map_index for ti in uploads] == listed  # the UI names each upload by its object
    videos = httpx.get(f"{emulator.url}/_emulator/apivideo/videos").json()
    assert len(videos) == len(objects)
    for ti, url in zip(uploads, listed, strict=True):
        result = ti.xcom_pull(task_ids="upload", map_indexes=ti.map_index)
        got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}").json()
        body = objects[url.removeprefix("s3://media/")]
        assert got["complete"] and got["sha256"] == hashlib.sha256(body).hexdigest() == result["sha256"]
        assert link_of(run, "upload", ti.map_index) == f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}"
    waits = [ti for ti in run.get_task_instances() if ti.task_id == "wait_until_playable"]
    assert len(waits) == len(objects) and {ti.state for ti in waits} == {"success"}


def test_the_ui_knows_the_uploaded_media_link_of_upload_tasks(airflow_db):
    """The API server builds the UI's links from the serialized DAG: name -> XCom key, mapped tasks included."""
    from airflow.serialization.serialized_objects import DagSerialization

    bag = load_dags()
    for dag_id, linked in (("chunkup_s3_fanout", {"upload"}), ("chunkup_split_upload", {"finalize"}),
                           ("chunkup_x_daily_clip", {"upload"})):
        encoded = DagSerialization.to_dict(bag.get_dag(dag_id))
        links = {t["__var"]["task_id"]: t["__var"].get("_operator_extra_links") for t in encoded["dag"]["tasks"]}
        assert {task for task, names in links.items() if names} == linked
        for task in linked:
            assert links[task] == {"Uploaded media": "_link_UploadedMediaLink"}
        served = DagSerialization.from_dict(encoded)
        assert all(served.get_task(task).extra_links == ["Uploaded media"] for task in linked)
