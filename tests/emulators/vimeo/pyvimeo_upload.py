"""Run in the peers' venv (PyVimeo 1.1.2 and tuspy): upload a file through the emulator's Vimeo front door, unmodified.

Prints ``{"uri": ..., "status": ...}`` as JSON: the video PyVimeo made, and its status read back through PyVimeo.
"""

from __future__ import annotations

import argparse
import json

import vimeo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-root", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--chunk-size", type=int, required=True)
    args = parser.parse_args()
    client = vimeo.VimeoClient(token=args.token)
    client.API_ROOT = args.api_root
    uri = client.upload(args.file, data={"name": "pyvimeo was here", "privacy": {"view": "unlisted"},
                                         "chunk_size": args.chunk_size})  # fmt: skip
    status = client.get(uri, params={"fields": "uri,name,upload.status"}).json()
    print(json.dumps({"uri": uri, "status": status}))


if __name__ == "__main__":
    main()
