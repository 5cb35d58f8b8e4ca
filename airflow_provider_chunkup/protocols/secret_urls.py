"""Upload URLs that are credentials (a session URI, a signed part URL, a one-time link): what to mask in logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit


def secret_parts(url: str, params: tuple[str, ...] = ()) -> Iterator[str]:
    """The URL, then the values of its query ``params`` that are credentials alone (an upload id, a signature):
    logged without the rest of the URL, they still let bytes in."""
    yield url
    for name, value in parse_qsl(urlsplit(url).query):
        if name in params and value:
            yield value


class UrlMasker:
    """Hands each credential URL, and its ``params`` that are credentials alone, to ``on_secret``: once per URL
    (not on every chunk)."""

    def __init__(self, on_secret: Callable[[str], None] | None, params: tuple[str, ...] = ()) -> None:
        self._on_secret = on_secret
        self._params = params
        self._seen: set[str] = set()

    def __call__(self, url: str) -> None:
        if self._on_secret is None or url in self._seen:
            return
        self._seen.add(url)
        for part in secret_parts(url, self._params):
            self._on_secret(part)
