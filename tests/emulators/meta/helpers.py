"""Meta requests as a client sends them: Graph video phases, rupload bodies, inspection."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

TOKEN = "meta-token"
VERSION = "v23.0"
CONTROL = "/_emulator/meta"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def start(graph: httpx.Client, size: int | str, path: str = "act_7/advideos") -> httpx.Response:
    return graph.post(f"/{path}", data={"upload_phase": "start", "file_size": str(size)})


def started(graph: httpx.Client, size: int, path: str = "act_7/advideos") -> dict[str, str]:
    response = start(graph, size, path)
    assert response.status_code == 200, response.text
    return response.json()


def transfer(graph: httpx.Client, session: str, offset: int, chunk: bytes,
             path: str = "act_7/advideos") -> httpx.Response:  # fmt: skip
    fields = {"upload_phase": "transfer", "upload_session_id": session, "start_offset": str(offset)}
    return graph.post(f"/{path}", data=fields, files={"video_file_chunk": ("chunk", chunk, "multipart/form-data")})


def finish(graph: httpx.Client, session: str, path: str = "act_7/advideos", **fields: str) -> httpx.Response:
    return graph.post(f"/{path}", data={"upload_phase": "finish", "upload_session_id": session, **fields})


Windows = list[list[int]]


def upload_all(graph: httpx.Client, data: bytes, path: str = "act_7/advideos") -> tuple[dict[str, str], Windows]:
    """Start, then every window the server dictates; the start answer and the windows sent."""
    answer = started(graph, len(data), path)
    start_offset, end_offset = int(answer["start_offset"]), int(answer["end_offset"])
    windows = []
    while start_offset != end_offset:
        windows.append([start_offset, end_offset])
        response = transfer(graph, answer["upload_session_id"], start_offset, data[start_offset:end_offset], path)
        assert response.status_code == 200, response.text
        start_offset, end_offset = int(response.json()["start_offset"]), int(response.json()["end_offset"])
    assert start_offset == len(data)
    return answer, windows


def graph_error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """The ``error`` object of a Graph error answer."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "OAuthException" and error["fbtrace_id"] and "is_transient" in error
    return error


def rupload(client: httpx.Client, url: str, offset: int, size: int, body: bytes,
            token: str = TOKEN) -> httpx.Response:  # fmt: skip
    headers = {"Authorization": f"OAuth {token}", "offset": str(offset), "file_size": str(size)}
    return client.post(url, content=body, headers=headers)


def inspect(anon: httpx.Client, what: str, object_id: str) -> dict[str, Any]:
    response = anon.get(f"{CONTROL}/{what}/{object_id}")
    assert response.status_code == 200, response.text
    return response.json()
