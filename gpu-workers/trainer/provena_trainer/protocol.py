"""The framed stdin/stdout protocol between the agent and the trainer (see ../PROTOCOL.md).

A frame is a 4-byte unsigned big-endian length N followed by N bytes of UTF-8 JSON holding one object with a
string field `type`. N is checked against the bound before any buffer is allocated.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import sys
from typing import Any, BinaryIO, Callable

import numpy as np

try:  # the fast decoder (pinned in requirements.txt); the stdlib decoder below yields the same values
    import orjson
except ImportError:  # pragma: no cover - exercised where no orjson wheel exists (e.g. the GPU bench's Python 3.12)
    orjson = None

#: Largest frame body accepted, in bytes (16 MiB): a batch larger than this must be split by the agent.
MAX_FRAME_BYTES = 16 * 1024 * 1024
_LEN = struct.Struct(">I")


class TrainerError(Exception):
    """A failure with a stable code, reported to the agent as an `error` frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Stable error codes (also listed in PROTOCOL.md).
FRAME_TRUNCATED = "TRAINER_FRAME_TRUNCATED"
FRAME_TOO_LARGE = "TRAINER_FRAME_TOO_LARGE"
FRAME_MALFORMED = "TRAINER_FRAME_MALFORMED"
PROTOCOL_VIOLATION = "TRAINER_PROTOCOL_VIOLATION"
RECIPE_INVALID = "TRAINER_RECIPE_INVALID"
DATA_INVALID = "TRAINER_DATA_INVALID"
PRIVACY_BUDGET_EXCEEDED = "TRAINER_PRIVACY_BUDGET_EXCEEDED"
RESUME_MISMATCH = "TRAINER_RESUME_MISMATCH"
INTERNAL = "TRAINER_INTERNAL"


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# -- decoding frame bodies ----------------------------------------------------------------------------------
# Two decoders, one language. orjson (when installed) is the fast one; the stdlib `json` module is the fallback.
# Where they differ by default, the stdlib path is brought to orjson's rules, which are the protocol's:
# - NaN, Infinity, -Infinity and number literals that overflow a double (1e400) are refused;
# - integers outside [-2**63, 2**64 - 1] decode as the nearest double (as JavaScript reads them); a literal beyond
#   the double range is refused;
# - \u escapes that leave a lone UTF-16 surrogate are refused (a valid pair is one character);
# - arrays and objects nest at most 1024 deep (MAX_NESTING);
# - a duplicate key: the last value wins (both decoders; the row digest covers the bytes as sent anyway);
# - not UTF-8, a byte order mark, control characters inside strings, trailing data: refused.
# Every refusal is TRAINER_FRAME_MALFORMED. tests/test_protocol.py runs the frame tests under both decoders and
# compares them on edge cases and on seeded random documents.

#: Deepest nesting of arrays and objects a frame may have (orjson's fixed limit).
MAX_NESTING = 1024
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
#: bytes -> class: digits '0', e/E 'e', signs '+', everything else ' ' (a C-speed pre-scan of the body).
_NUMBER_CLASSES = bytes(
    ord("0") if chr(b).isdigit() and b < 128 else ord("e") if b in b"eE" else ord("+") if b in b"+-" else ord(" ")
    for b in range(256)
)
#: A literal the default stdlib hooks may read differently: an integer of 19+ digits (may leave the 64-bit range),
#: or an exponent of 3+ digits (may overflow a double). Strings that look so only cost the slower exact path.
_SUSPECT_NUMBERS = (b"0" * 19, b"e000", b"e+000")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _finite_float(text: str) -> float:
    x = float(text)
    if math.isinf(x):
        raise ValueError(f"number {text[:40]} overflows a double")
    return x


def _int_or_double(text: str) -> int | float:
    if len(text) < 19:
        return int(text)
    try:
        v = int(text)
    except ValueError:  # more digits than int() converts (sys.int_info.str_digits_check_threshold): not a double
        v = None
    if v is not None and _INT_MIN <= v <= _INT_MAX:
        return v
    return _finite_float(text)


def _nesting(body: bytes) -> int:
    """Deepest nesting of arrays/objects in a valid JSON document (strings blanked first)."""
    a = np.frombuffer(_STRING.sub(b'""', body), dtype=np.uint8)
    step = ((a == 0x5B) | (a == 0x7B)).astype(np.int32) - ((a == 0x5D) | (a == 0x7D)).astype(np.int32)
    return int(np.cumsum(step).max(initial=0))


def _has_lone_surrogate_escape(body: bytes) -> bool:
    """Whether a \\u escape leaves a lone UTF-16 surrogate: escapes read left to right (so an escaped backslash
    before 'ud800' is text), a high one must be followed at once by a low one. Checked on the bytes, not on the
    decoded value, where a duplicate key may have dropped the string."""
    high_ends_at = -1
    for m in _ESCAPE.finditer(body):
        cp = int(m.group(1), 16) if m.group(1) else -1
        if high_ends_at >= 0:
            if m.start() != high_ends_at or not 0xDC00 <= cp <= 0xDFFF:
                return True
            high_ends_at = -1
        elif 0xD800 <= cp <= 0xDBFF:
            high_ends_at = m.end()
        elif 0xDC00 <= cp <= 0xDFFF:
            return True
    return high_ends_at >= 0


_PLAIN = json.JSONDecoder(parse_constant=_reject_constant)
_EXACT = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_int_or_double)


def _loads_stdlib(body: bytes) -> Any:
    text = body.decode("utf-8")
    classes = body.translate(_NUMBER_CLASSES)
    decoder = _EXACT if any(s in classes for s in _SUSPECT_NUMBERS) else _PLAIN
    containers = body.count(b"[") + body.count(b"{")
    if containers > MAX_NESTING and _nesting(body) > MAX_NESTING:  # (a malformed body is refused either way)
        raise ValueError(f"arrays/objects nest deeper than {MAX_NESTING}")
    # Python 3.11's C scanner counts against the interpreter's recursion limit (1000, frames included): make room
    # for MAX_NESTING levels. (3.12+ has a separate C limit above 1024.)
    raise_limit = containers > 256
    limit = sys.getrecursionlimit()
    if raise_limit:
        sys.setrecursionlimit(limit + MAX_NESTING + 64)
    try:
        obj = decoder.decode(text)
    except RecursionError:
        raise ValueError(f"arrays/objects nest deeper than this Python decodes (limit {MAX_NESTING})") from None
    finally:
        if raise_limit:
            sys.setrecursionlimit(limit)
    if b"\\u" in body and _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate_escape(body):
        raise ValueError("a \\u escape leaves a lone UTF-16 surrogate")
    return obj


_DECODERS: dict[str, Callable[[bytes], Any]] = {"stdlib": _loads_stdlib}
if orjson is not None:
    _DECODERS["orjson"] = orjson.loads
#: The frame decoder in use: "orjson" when installed, else "stdlib"; PROVENA_TRAINER_JSON=stdlib forces the stdlib.
DECODER = "stdlib" if os.environ.get("PROVENA_TRAINER_JSON") == "stdlib" or orjson is None else "orjson"
_loads = _DECODERS[DECODER]


def use_decoder(name: str) -> str:
    """Switches the frame decoder ("orjson" or "stdlib"); returns the previous one (tests and the bench)."""
    global DECODER, _loads
    if name not in _DECODERS:
        raise ValueError(f"decoder {name!r} is not available here (have: {sorted(_DECODERS)})")
    previous, DECODER, _loads = DECODER, name, _DECODERS[name]
    return previous


def decode_body(body: bytes) -> Any:
    """A frame body's JSON value, under the protocol's rules (above); TRAINER_FRAME_MALFORMED otherwise."""
    try:
        return _loads(body)
    except (UnicodeDecodeError, ValueError) as e:  # orjson.JSONDecodeError is a ValueError
        raise TrainerError(FRAME_MALFORMED, f"frame is not valid UTF-8 JSON: {e}") from None


def read_frame(stream: BinaryIO, max_bytes: int = MAX_FRAME_BYTES) -> dict[str, Any] | None:
    """The next frame, or None at a clean end of stream (no byte of a new frame read)."""
    got = read_frame_with_body(stream, max_bytes)
    return None if got is None else got[0]


def read_frame_with_body(stream: BinaryIO, max_bytes: int = MAX_FRAME_BYTES) -> tuple[dict[str, Any], bytes] | None:
    """The next frame and its body bytes as received (the row digest hashes them: no re-serialization)."""
    head = _read_exact(stream, 4)
    if not head:
        return None
    if len(head) < 4:
        raise TrainerError(FRAME_TRUNCATED, f"stream ended inside a frame length ({len(head)} of 4 bytes)")
    (n,) = _LEN.unpack(head)
    if n > max_bytes:
        raise TrainerError(FRAME_TOO_LARGE, f"frame of {n} bytes exceeds the limit of {max_bytes}")
    body = _read_exact(stream, n)
    if len(body) < n:
        raise TrainerError(FRAME_TRUNCATED, f"stream ended inside a frame ({len(body)} of {n} bytes)")
    obj = decode_body(body)
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise TrainerError(FRAME_MALFORMED, "frame must be a JSON object with a string 'type'")
    return obj, body


def encode_frame(obj: dict[str, Any], max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    body = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(body) > max_bytes:
        raise TrainerError(FRAME_TOO_LARGE, f"outgoing frame of {len(body)} bytes exceeds the limit")
    return _LEN.pack(len(body)) + body


def write_frame(stream: BinaryIO, obj: dict[str, Any]) -> None:
    stream.write(encode_frame(obj))
    stream.flush()


def finite(x: float) -> float | None:
    """JSON has no NaN/Infinity: report a non-finite metric as null."""
    return x if math.isfinite(x) else None
