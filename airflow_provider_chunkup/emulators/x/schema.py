"""X's request-body schemas for posts, alt text and subtitles, and the validator X's errors come from.

The schemas are ``CreatePostsRequest`` (and what it references), ``CreateMediaMetadataRequest``,
``CreateMediaSubtitlesRequest`` and ``DeleteMediaSubtitlesRequest`` of X's OpenAPI spec v2.167
(``/work/shared/specs/x-api-v2-openapi.json``), written out here as Python. Our additions (choices):
``metadata`` and ``metadata.alt_text`` refuse unknown fields, and ``CreateMediaSubtitlesRequest``'s
fields are all required and refuse unknown ones.

X validates bodies with networknt's json-schema-validator: its messages are that library's
(``src/main/resources/jsv-messages.properties``), e.g. ``$.media.media_ids: string found, array
expected`` with ``parameters {"$.media.media_ids": ["\\"1666121026172858379\\""]}``, as X answered in
geduldig/TwitterAPI#227 (https://github.com/geduldig/TwitterAPI/issues/227). Only what these
schemas use is implemented: type, properties, required, additionalProperties, enum, pattern,
min/maxLength (code points), min/maxItems, minimum/maximum, items.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

ID = {"type": "string", "pattern": "^[0-9]{1,19}$"}
REPLY_SETTINGS = ["following", "mentionedUsers", "subscribers", "verified"]


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


_URL_CTA = _object({"url": {"type": "string"}}, ("url",))
CREATE_POST = _object(
    {
        "card_uri": {"type": "string"},
        "community_id": ID,
        "direct_message_deep_link": {"type": "string"},
        "edit_options": _object({"previous_post_id": ID}, ("previous_post_id",)),
        "for_super_followers_only": {"type": "boolean"},
        "geo": _object({"place_id": {"type": "string"}}, ("place_id",)),
        "made_with_ai": {"type": "boolean"},
        "media": _object(
            {
                "call_to_actions": _object(
                    {
                        "app_install": _object(
                            {
                                "app_store_id": {"type": "string"},
                                "ipad_app_store_id": {"type": "string"},
                                "play_store_id": {"type": "string"},
                            }
                        ),
                        "visit_site": _URL_CTA,
                        "watch_now": _URL_CTA,
                    }
                ),
                "description": {"type": "string"},
                "embeddable": {"type": "boolean"},
                "media_ids": {"type": "array", "minItems": 1, "maxItems": 4, "items": ID},
                "preview_media_id": ID,
                "tagged_user_ids": {"type": "array", "maxItems": 10, "items": ID},
                "title": {"type": "string"},
            },
            ("media_ids",),
        ),
        "nullcast": {"type": "boolean"},
        "paid_partnership": {"type": "boolean"},
        "poll": _object(
            {
                "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 10080},
                "options": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 4,
                    "items": {"type": "string", "minLength": 1, "maxLength": 25},
                },
                "reply_settings": {"type": "string", "enum": REPLY_SETTINGS},
            },
            ("options", "duration_minutes"),
        ),
        "quote_tweet_id": ID,
        "reply": _object(
            {
                "auto_populate_reply_metadata": {"type": "boolean"},
                "exclude_reply_user_ids": {"type": "array", "items": {"type": "string"}},
                "in_reply_to_tweet_id": ID,
            },
            ("in_reply_to_tweet_id",),
        ),
        "reply_settings": {"type": "string", "enum": REPLY_SETTINGS},
        "share_with_followers": {"type": "boolean"},
        "text": {"type": "string"},
    }
)

_OBJECT = {"type": "object"}
CREATE_METADATA = _object(
    {
        "id": ID,
        "metadata": _object(
            {
                "allow_download_status": _object({"allow_download": {"type": "boolean"}}, closed=False),
                # maxLength 1000 is checked after NFC (posts.py): X counts characters, not code points.
                "alt_text": _object({"text": {"type": "string"}}, ("text",)),
                "audience_policy": _OBJECT,
                "content_expiration": _object({"timestamp_sec": {"type": "number"}}, ("timestamp_sec",), False),
                "domain_restrictions": _object(
                    {"whitelist": {"type": "array", "items": {"type": "string"}}}, ("whitelist",), False
                ),
                "found_media_origin": _object(
                    {"id": {"type": "string"}, "provider": {"type": "string"}}, ("provider", "id"), False
                ),
                "geo_restrictions": _OBJECT,
                "management_info": _object({"managed": {"type": "boolean"}}, ("managed",), False),
                "preview_image": _object({"media_key": _OBJECT}, ("media_key",), False),
                "sensitive_media_warning": _OBJECT,
                "shared_info": _object({"shared": {"type": "boolean"}}, ("shared",), False),
                "sticker_info": _object({"stickers": {"type": "array", "items": _OBJECT}}, ("stickers",), False),
                "upload_source": _object({"upload_source": {"type": "string"}}, ("upload_source",), False),
            }
        ),
    },
    ("id",),
    closed=False,
)

SUBTITLE_CATEGORIES = ["AmplifyVideo", "TweetVideo"]
CREATE_SUBTITLES = _object(
    {
        "id": ID,
        "media_category": {"type": "string", "enum": SUBTITLE_CATEGORIES},
        "subtitles": _object(
            {
                "display_name": {"type": "string", "minLength": 1},
                "id": ID,
                "language_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
            },
            ("id", "language_code", "display_name"),
        ),
    },
    ("id", "media_category", "subtitles"),
)
DELETE_SUBTITLES = _object(
    {"id": ID, "language_code": {"type": "string"}, "media_category": {"type": "string"}},
    ("id", "media_category", "language_code"),
)

NOT_DEFINED = "is not defined in the schema and the schema does not allow additional properties"
#: networknt's names for JSON types.
_TYPE_CHECKS = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    for name in ("boolean", "integer", "number", "string", "array", "object"):
        if _TYPE_CHECKS[name](value):
            return name
    return type(value).__name__


@dataclass(frozen=True)
class SchemaViolation:
    """One failed check: networknt's message and the JSON path and value it is about."""

    path: str
    message: str
    value: Any

    def as_error(self) -> dict[str, Any]:
        """X's ``errors[]`` entry: ``parameters`` maps the path to the value as JSON text."""
        return {"parameters": {self.path: [json.dumps(self.value)]}, "message": self.message}


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[SchemaViolation]:
    """Every violation of ``schema`` in ``value`` (empty when it is valid)."""
    expected = schema.get("type")
    if expected and not _TYPE_CHECKS[expected](value):
        return [SchemaViolation(path, f"{path}: {json_type(value)} found, {expected} expected", value)]
    found: list[SchemaViolation] = []

    def fail(message: str) -> None:
        found.append(SchemaViolation(path, f"{path}: {message}", value))

    if "enum" in schema and value not in schema["enum"]:
        fail(f"does not have a value in the enumeration [{', '.join(schema['enum'])}]")
    if isinstance(value, str):
        length = len(value)  # code points, as networknt counts
        if "pattern" in schema and not re.search(schema["pattern"], value):
            fail(f"does not match the regex pattern {schema['pattern']}")
        if "minLength" in schema and length < schema["minLength"]:
            fail(f"must be at least {schema['minLength']} characters long")
        if "maxLength" in schema and length > schema["maxLength"]:
            fail(f"may only be {schema['maxLength']} characters long")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            fail(f"must have a minimum value of {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            fail(f"must have a maximum value of {schema['maximum']}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            fail(f"there must be a minimum of {schema['minItems']} items in the array")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            fail(f"there must be a maximum of {schema['maxItems']} items in the array")
        for index, item in enumerate(value):
            found += validate(item, schema.get("items", {}), f"{path}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(SchemaViolation(f"{path}.{name}", f"{path}.{name}: is missing but it is required", value))
        for name, item in value.items():
            if name in properties:
                found += validate(item, properties[name], f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(
                    SchemaViolation(
                        f"{path}.{name}",
                        f"{path}.{name}: {NOT_DEFINED}",
                        item,
                    )
                )
    return found
