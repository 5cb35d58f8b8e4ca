"""How long X thinks a post's text is: its weighted length (twitter-text's configuration v3).

X counts most Latin, Greek, Cyrillic... code points (U+0000-U+10FF and a few punctuation ranges) as
1 and every other code point (CJK, most symbols) as 2; an emoji counts 2 however many code points
make it (skin tones, ZWJ families, flags, keycaps); a URL counts 23 whatever its length. The text is
NFC-normalised first. The limit is 280 for most accounts; X Premium accounts may post up to 25,000.

:func:`weighted_length` never counts more than X does: a URL we do not recognise as one (a bare
domain whose TLD X knows) is counted as at most 23, so a post we refuse is a post X refuses. Near
the limit X may still refuse a text we let through (a short bare domain it turns into a 23-character
link); its answer then names the cause.
"""

from __future__ import annotations

import unicodedata

import regex

DEFAULT_MAX_POST_LENGTH = 280
"""X's limit for accounts without long posts."""

LONG_POST_MAX_LENGTH = 25_000
"""X Premium's limit: the largest value the ``max_post_length`` setting makes sense with."""

URL_LENGTH = 23
"""What X counts for any link (its t.co form)."""

# twitter-text v3: these code point ranges weigh 1, everything else 2.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

_URL = regex.compile(r"\bhttps?://[^\s<>\"]+", regex.IGNORECASE)
# Something X may link without a scheme (example.com/path): counted as at most 23, never more.
_DOMAIN_LIKE = regex.compile(r"(?<![\w@.])[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+(?:/[^\s]*)?")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_GRAPHEME = regex.compile(r"\X")


def _code_point_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(start <= point <= end for start, end in _LIGHT_RANGES) else 2


def _plain_weight(text: str) -> int:
    """Weight of text with no URL in it: code points, emoji as one unit of 2."""
    total = 0
    for grapheme in _GRAPHEME.findall(text):
        weight = sum(_code_point_weight(c) for c in grapheme)
        # An emoji is 2 however it is built; min() keeps a lone symbol such as (c) at its own weight,
        # in case X does not treat it as an emoji.
        total += min(weight, 2) if _EMOJI.search(grapheme) else weight
    return total


def _weight_outside_urls(text: str) -> int:
    total, position = 0, 0
    for match in _DOMAIN_LIKE.finditer(text):
        total += _plain_weight(text[position:match.start()])
        total += min(_plain_weight(match.group()), URL_LENGTH)
        position = match.end()
    return total + _plain_weight(text[position:])


def weighted_length(text: str) -> int:
    """The text's length as X counts it against the post limit (a lower bound: see the module doc)."""
    normalized = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    total, position = 0, 0
    for match in _URL.finditer(normalized):
        total += _weight_outside_urls(normalized[position:match.start()]) + URL_LENGTH
        position = match.end()
    return total + _weight_outside_urls(normalized[position:])
