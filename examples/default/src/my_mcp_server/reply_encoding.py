"""The bytes of a JSON-RPC reply, exactly as the SDK's Streamable HTTP entry writes them.

The SDK writes `json.dumps(message, separators=(",", ":"))` (ASCII, compact). orjson writes the
same bytes for most replies in a fraction of the time, but not for all: it leaves non-ASCII text
and DEL unescaped and writes some floats in other forms. `encode_reply` uses orjson only where
its bytes are provably json's, and json everywhere else.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# What `json.dumps(..., separators=(",", ":"))` builds on every call, built once.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
# Where orjson's output of JSON-mode values can differ from json.dumps's: a float in exponent
# form (json: `1e-05`, `1e+16`; orjson `1e-5`, `1e16`), i.e. a digit then `e`, or between 1e-5
# and 1e-4 (json: `1.5e-05`, orjson `0.000015`), i.e. `0.0000`. A string holding such text only
# sends the reply the slow way. A digit then `e` is found as `0e` once every digit reads `0`:
# bytes.translate and two substring searches cost a fraction of a regex search.
_DIGITS_AS_ZERO = bytes(48 if 48 <= b <= 57 else b for b in range(256))
# Types JSON-mode dumps never hold raise instead of being written (json.dumps refuses them).
_STRICT = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
_STRICT |= orjson.OPT_PASSTHROUGH_SUBCLASS


def encode_reply(
    reply: dict[str, Any], *, json_mode: bool = False, float_free: bool = False
) -> bytes:
    """The bytes the SDK's entry writes: `json.dumps` of the dumped message, compact, ASCII.

    With `json_mode` (the reply is made of JSON-mode dumps) orjson writes it when its bytes are
    provably the same: all ASCII (json escapes the rest), no DEL (json escapes it, orjson does
    not), no null (where a NaN or infinity could hide), no float written differently. Anything
    else goes to json.dumps; so do values orjson refuses (integers past 64 bits, datetimes,
    dataclasses, subclasses of built-in types: json.dumps writes or refuses those itself).
    With `float_free` too (the caller knows the reply holds no float) the float checks are
    skipped: only the text can differ then.
    """
    if json_mode:
        try:
            written = orjson.dumps(reply, option=_STRICT)
        except TypeError:
            pass
        else:
            if (
                written.isascii()
                and b"\x7f" not in written
                and (float_free or _floats_written_as_json_writes_them(written))
            ):
                return written
    return _ENCODER.encode(reply).encode()


def _floats_written_as_json_writes_them(written: bytes) -> bool:
    """No float in orjson's `written` that json.dumps would write otherwise."""
    return (
        b"null" not in written  # orjson's NaN and infinity, json's `NaN`, `Infinity`
        and b"0.0000" not in written
        and b"0e" not in written.translate(_DIGITS_AS_ZERO)
    )
