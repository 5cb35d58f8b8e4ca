"""A post's weighted length as X counts it (twitter-text configuration v3), for ``POST /2/tweets``.

X's rule (twitter-text ``config/v3.json``, https://github.com/twitter/twitter-text): the text is
NFC-normalised; code points U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 weigh 1,
every other code point 2; an emoji weighs 2 however many code points build it (ZWJ families, skin
tones, flags, keycaps); a URL weighs 23 (its t.co form) whatever its length, with or without a
scheme when its domain ends in a top-level domain X knows.

The PyPI port of twitter-text (``twitter-text-parser`` 3.0) no longer imports where setuptools has
dropped ``pkg_resources`` (setuptools >= 81), so the emulator counts by itself. Where it may differ
from X (our choice, kept small): a scheme-less domain is a URL when its last label is a generic TLD
in :data:`GENERIC_TLDS` or any two ASCII letters (country codes); twitter-text carries IANA's full
lists. ``regex`` (a chunkup dependency) supplies the grapheme clusters and ``Extended_Pictographic``
an emoji count needs; it is imported on first use.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

URL_WEIGHT = 23
EMOJI_WEIGHT = 2
#: twitter-text v3's ranges of weight 1 (``scale`` 100, ``weight`` 100); everything else weighs 2.
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
#: Generic TLDs a scheme-less link may end in (most used ones; two-letter TLDs are all taken as ccTLDs).
GENERIC_TLDS = frozenset((
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "aero", "coop", "museum",
    "mobi", "asia", "tel", "travel", "jobs", "cat", "post", "xxx", "app", "dev", "page", "blog", "shop", "store",
    "online", "site", "website", "tech", "top", "xyz", "club", "live", "news", "art", "design", "cloud", "link",
    "space", "world", "today", "email", "media", "agency", "studio", "digital", "network", "software", "systems",
    "solutions", "company", "social", "video", "photo", "photos", "music", "games", "game", "fun", "wiki", "zone",
    "life", "love", "bot", "ai",
))  # fmt: skip


@functools.cache
def _patterns() -> Any:
    import regex

    label = r"[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?"
    tail = r"(?::\d{1,5})?(?:[/?#][^\s<>\"]*)?"
    return (
        regex.compile(rf"(?i)\bhttps?://(localhost|(?:{label}\.)+([a-z]{{2,}})){tail}"),
        regex.compile(rf"(?i)(?<![\p{{L}}\p{{N}}@#$._/-])((?:{label}\.)+([a-z]{{2,}})){tail}"),
        regex.compile(r"\X"),
        regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]"),
    )


def _trim(url: str) -> str:
    """Drop the punctuation that ends a sentence rather than the link (``see x.com.``)."""
    while url and url[-1] in ".,;:!?'\")]":
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _url_spans(text: str) -> list[tuple[int, int]]:
    with_scheme, without_scheme, _, _ = _patterns()
    spans: list[tuple[int, int]] = []
    for pattern in (with_scheme, without_scheme):
        for match in pattern.finditer(text):
            tld = (match.group(2) or "").lower()
            if match.group(1).lower() != "localhost" and not _known_tld(tld):
                continue
            span = (match.start(), match.start() + len(_trim(match.group())))
            if not any(start < span[1] and span[0] < end for start, end in spans):
                spans.append(span)
    return sorted(spans)


def _known_tld(tld: str) -> bool:
    return tld in GENERIC_TLDS or (len(tld) == 2 and tld.isascii())


def _code_point_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(start <= point <= end for start, end in LIGHT_RANGES) else 2


def _plain_weight(text: str) -> int:
    _, _, grapheme, emoji = _patterns()
    total = 0
    for cluster in grapheme.findall(text):
        total += EMOJI_WEIGHT if emoji.search(cluster) else sum(_code_point_weight(c) for c in cluster)
    return total


def weighted_length(text: str) -> int:
    """The weight X compares with the post length limit (280 unless the account has long posts)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    total, position = 0, 0
    for start, end in _url_spans(text):
        total += _plain_weight(text[position:start]) + URL_WEIGHT
        position = end
    return total + _plain_weight(text[position:])
