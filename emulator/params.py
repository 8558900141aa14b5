"""Reading a call's parameters as Telegram does: form strings or JSON values,
with its error answers for values it cannot read."""

from __future__ import annotations

import json
from typing import Any

from emulator.models import JSON, _bad_request


def _as_int(params: JSON, key: str, *, required: bool = False) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise _bad_request(f"{key} is empty")
        return None
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f'invalid {key} specified: "{value}"') from None


def _as_float(params: JSON, key: str, default: float) -> float:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {key} specified") from None


def _as_bool(params: JSON, key: str) -> bool:
    value = params.get(key)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _as_json(params: JSON, key: str) -> Any:
    """A nested object: PTB sends it JSON-encoded in form data, JSON bodies send it as is."""
    value = params.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {key} JSON object") from None
    return value


def _as_str(params: JSON, key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
