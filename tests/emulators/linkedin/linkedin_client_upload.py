"""Run in the peers' venv (linkedin-api-client 0.3.0): upload a file through the emulator's LinkedIn front door.

Initialize with ``RestliClient.action``, PUT the parts with httpx, finalize with a raw request (``action()`` raises
on finalize's empty body), then read the video back with ``RestliClient.get``. Prints the URN, the ETags, the
finalize answer and the video as JSON.
"""

from __future__ import annotations

import argparse
import json

import httpx
from linkedin_api.clients.restli.client import RestliClient
from linkedin_api.common import constants


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--file", required=True)
    args = parser.parse_args()
    constants.VERSIONED_BASE_URL = f"{args.base}/rest"
    client = RestliClient()
    with open(args.file, "rb") as f:
        size = f.seek(0, 2)
        init = client.action(
            resource_path="/videos", action_name="initializeUpload", access_token=args.token,
            version_string=args.version,
            action_params={"initializeUploadRequest": {"owner": args.owner, "fileSizeBytes": size,
                                                       "uploadCaptions": False, "uploadThumbnail": False}},
        )  # fmt: skip
        value = init.value
        etags = []
        for part in value["uploadInstructions"]:
            f.seek(part["firstByte"])
            data = f.read(part["lastByte"] - part["firstByte"] + 1)
            put = httpx.put(part["uploadUrl"], content=data, headers={"Content-Type": "application/octet-stream"})
            put.raise_for_status()
            etags.append(put.headers["ETag"])
    headers = {"Authorization": f"Bearer {args.token}", "LinkedIn-Version": args.version,
               "X-Restli-Protocol-Version": "2.0.0", "X-RestLi-Method": "action"}  # fmt: skip
    body = {"finalizeUploadRequest": {"video": value["video"], "uploadToken": value["uploadToken"],
                                      "uploadedPartIds": etags}}  # fmt: skip
    final = httpx.post(f"{args.base}/rest/videos", params={"action": "finalizeUpload"}, json=body, headers=headers)
    video = client.get(resource_path="/videos/{id}", path_keys={"id": value["video"]}, access_token=args.token,
                       version_string=args.version)  # fmt: skip
    print(json.dumps({"urn": value["video"], "parts": len(etags), "etags": etags, "finalize_status": final.status_code,
                      "finalize_body": final.text, "video": video.entity}))  # fmt: skip


if __name__ == "__main__":
    main()
