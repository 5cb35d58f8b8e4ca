"""Prints what the demo's DAG run did: media id, bytes, sha256 match with the emulator, throughput, and the
post as the emulator stored it (text, media, alt text, subtitle track)."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

import httpx

from airflow_provider_chunkup.sources import file_digest


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--airflow-db", required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--source", required=True)
    args = parser.parse_args()

    with sqlite3.connect(args.airflow_db) as db:
        rows = dict(db.execute(
            "SELECT task_id, value FROM xcom WHERE dag_id = 'chunkup_x_upload' AND key = 'return_value' "
            "AND task_id IN ('finalize', 'wait_for_processing', 'post') ORDER BY timestamp"
        ).fetchall())
    result = json.loads(rows["finalize"])
    result = json.loads(result) if isinstance(result, str) else result
    processed = json.loads(rows.get("wait_for_processing") or "null")
    received = httpx.get(f"{args.emulator}/_emulator/x/media/{result['media_id']}").json()
    local = file_digest(args.source)
    match = local == received["sha256"] == result["sha256"]
    seconds = result.get("transfer_seconds") or 0
    print(f"   media id:      {result['media_id']} (media key {result['media_key']})")
    print(f"   bytes:         {result['size']} sent, {received['size']} received by the emulator")
    print(f"   sha256:        {local} (source)")
    print(f"                  {received['sha256']} (emulator) -> {'MATCH' if match else 'MISMATCH'}")
    if seconds:
        print(f"   throughput:    {result['size'] / seconds / 2**20:.1f} MiB/s ({seconds:.2f} s for the append task)")
    print(f"   processing:    {processed['state'] if processed else 'unknown'} after the sensor")
    posted = json.loads(rows["post"]) if rows.get("post") else None
    posted = json.loads(posted) if isinstance(posted, str) else posted
    if not posted:
        print("   post:          none (the post task left no XCom)")
        return 1
    stored = httpx.get(f"{args.emulator}/_emulator/x/posts/{posted['post_id']}").json()
    media = httpx.get(f"{args.emulator}/_emulator/x/media/{result['media_id']}").json()
    tracks = ", ".join(f"{t['language_code']} ({t['display_name']}, media {t['media_id']})"
                       for t in media.get("subtitles") or []) or "none"
    print(f"   post id:       {stored['id']} ({posted['url']})")
    print(f"   post text:     {stored['text']!r} (as the emulator stored it)")
    print(f"   post media:    {', '.join(stored['media_ids'])}")
    print(f"   alt text:      {media.get('alt_text')!r}")
    print(f"   subtitles:     {tracks}")
    published = stored["media_ids"] == [result["media_id"]] and stored["id"] == posted["post_id"]
    return 0 if match and published else 1


if __name__ == "__main__":
    sys.exit(main())
