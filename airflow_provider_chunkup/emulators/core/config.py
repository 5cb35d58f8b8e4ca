"""Runtime-adjustable emulator configuration: the machinery every API's section shares.

Handlers read the config on every request, so mutating an attribute (from Python, or through
``PATCH /_emulator/config``) takes effect on the next request. The whole config is a
``ProcessConfig`` (host, port, data directory) with one ``ApiConfig`` section per emulated API
(``EmulatorConfig`` in ``emulators/config.py`` lists them); each section validates itself and
brings its own ``chunkup-emulator`` flags.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KIB = 1024
MIB = 1024 * KIB


class ConfigPatchError(ValueError):
    """A config patch names an unknown field or has a value of the wrong type."""


class ApiConfig:
    """Base of an emulated API's config section: a dataclass whose every field has a default.

    A field may be a bool, int, float, str, list or set of str, dict, or None (what a JSON merge
    patch can set: see ``apply_config_patch``); nested dataclasses are patched field by field.
    """

    def validate(self) -> None:
        """Raise ``ConfigPatchError`` for values the emulator cannot act on.

        Messages name the field as a PATCH does (``"<section>.<field> must be positive"``).
        A PATCH is validated on a copy first, so a refused one changes nothing.
        """

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add this API's ``chunkup-emulator`` flags (none by default)."""

    def apply_arguments(self, args: argparse.Namespace) -> None:
        """Set fields from the parsed flags that were given (left alone when a flag is absent)."""


@dataclass
class ProcessConfig:
    """Settings of the emulator process, fixed once the server started (``EmulatorServer`` fills in the
    real port and data directory). Subclassed by ``EmulatorConfig``, which adds one section per API."""

    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0

    def sections(self) -> dict[str, ApiConfig]:
        """The API sections by field name (each API's ``EmulatedApi.name``), in field order."""
        return {
            f.name: value for f in dataclasses.fields(self) if isinstance(value := getattr(self, f.name), ApiConfig)
        }


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (a failure rate, say)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


#: Top-level fields a PATCH may not change: they are bound when the server starts.
STARTUP_ONLY_FIELDS = frozenset(f.name for f in dataclasses.fields(ProcessConfig))


def config_to_dict(obj: Any) -> Any:
    """JSON-safe view of a config object (sets become sorted lists, paths strings)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: config_to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, dict):
        return {str(k): config_to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def apply_config_patch(config: ProcessConfig, patch: dict[str, Any]) -> None:
    """Apply a JSON merge patch (RFC 7386) to ``config`` in place.

    The whole patch is validated on a copy first, so a bad patch changes nothing. ``null`` resets
    a field to its default, or removes a key from a dict field.
    """
    if not isinstance(patch, dict):
        raise ConfigPatchError("the config patch must be a JSON object")
    for name in STARTUP_ONLY_FIELDS & patch.keys():
        raise ConfigPatchError(f"{name} is fixed once the server started")
    # One level of copies is enough: patched values are replaced, never mutated in place.
    sections = {name: dataclasses.replace(section) for name, section in config.sections().items()}
    trial = dataclasses.replace(config, **sections)
    _patch_dataclass(trial, patch, path="")
    for section in trial.sections().values():
        section.validate()
    # Validation passed: apply to the live objects so references held elsewhere see the change.
    _patch_dataclass(config, patch, path="")


def restore_config(target: Any, baseline: Any) -> None:
    """Set ``target``'s runtime fields back to ``baseline``'s values, in place.

    In place, because handlers and tests hold references to the live objects (the API sections).
    """
    for f in dataclasses.fields(target):
        if f.name in STARTUP_ONLY_FIELDS:
            continue
        value = getattr(baseline, f.name)
        if dataclasses.is_dataclass(value):
            restore_config(getattr(target, f.name), value)
        else:
            setattr(target, f.name, copy.deepcopy(value))


def _patch_dataclass(target: Any, patch: dict[str, Any], path: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(target)}
    for key, value in patch.items():
        where = f"{path}{key}"
        if key not in fields:
            raise ConfigPatchError(f"unknown config field {where!r}")
        current = getattr(target, key)
        if value is None:
            setattr(target, key, _default_of(fields[key]))
        elif dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigPatchError(f"{where} must be an object")
            _patch_dataclass(current, value, path=f"{where}.")
        else:
            setattr(target, key, _coerce(current, value, where))


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _coerce(current: Any, value: Any, where: str) -> Any:
    """Check ``value`` against the type of the field's current value and convert it."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigPatchError(f"{where} must be true or false")
        return value
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigPatchError(f"{where} must be a number")
        if isinstance(current, int) and not isinstance(value, int):
            if not float(value).is_integer():
                raise ConfigPatchError(f"{where} must be an integer")
            return int(value)
        return type(current)(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise ConfigPatchError(f"{where} must be a string")
        return value
    if isinstance(current, (set, list)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigPatchError(f"{where} must be a list of strings")
        return set(value) if isinstance(current, set) else list(value)
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise ConfigPatchError(f"{where} must be an object")
        merged = dict(current)
        for k, v in value.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return merged
    if current is None or isinstance(current, Path):
        return value
    raise ConfigPatchError(f"{where} cannot be patched")
