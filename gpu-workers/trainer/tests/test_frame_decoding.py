"""The two frame decoders (orjson and the stdlib fallback) accept and refuse the same bodies, with the same values:
the protocol's JSON rules (provena_trainer/protocol.py, PROTOCOL.md) on edge cases, then on seeded random documents."""

import os
import random
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provena_trainer import protocol as P

TRAINER_DIR = Path(__file__).resolve().parent.parent
REFUSED = object()

# body -> the value it decodes to, or REFUSED (TRAINER_FRAME_MALFORMED).
EDGE_CASES: dict[str, tuple[bytes, Any]] = {
    "nan": (b'{"a":NaN}', REFUSED),
    "infinity": (b'{"a":Infinity}', REFUSED),
    "minus-infinity": (b'{"a":-Infinity}', REFUSED),
    "float-overflow": (b'{"a":1e400}', REFUSED),
    "negative-float-overflow": (b'{"a":-1E+400}', REFUSED),
    "exponent-overflow": (b'{"a":1e99999999999999999999}', REFUSED),
    "underflow-is-zero": (b'{"a":1e-400}', {"a": 0.0}),
    "subnormal": (b'{"a":5e-324}', {"a": 5e-324}),
    "three-digit-exponent-in-range": (b'{"a":1.5e300,"b":2e-300}', {"a": 1.5e300, "b": 2e-300}),
    "u64-max-is-an-int": (b'{"a":18446744073709551615}', {"a": 2**64 - 1}),
    "above-u64-is-a-double": (b'{"a":18446744073709551616}', {"a": 1.8446744073709552e19}),
    "i64-min-is-an-int": (b'{"a":-9223372036854775808}', {"a": -(2**63)}),
    "below-i64-is-a-double": (b'{"a":-9223372036854775809}', {"a": -9.223372036854776e18}),
    "javascript-large-number": (b'{"a":123456789012345680000}', {"a": 1.2345678901234568e20}),
    "int-of-400-digits-overflows": (b'{"a":' + b"9" * 400 + b"}", REFUSED),
    "int-of-5000-digits-overflows": (b'{"a":' + b"9" * 5000 + b"}", REFUSED),
    "digits-in-a-string-stay-text": (b'{"a":"' + b"1" * 30 + b'e999"}', {"a": "1" * 30 + "e999"}),
    "minus-zero-int": (b'{"a":-0}', {"a": 0}),
    "minus-zero-float": (b'{"a":-0.0}', {"a": -0.0}),
    "duplicate-key-last-wins": (b'{"type":"batch","type":"end"}', {"type": "end"}),
    "not-utf8": (b'{"a":"\xff"}', REFUSED),
    "overlong-utf8": (b'{"a":"\xc0\xaf"}', REFUSED),
    "utf8-encoded-surrogate": (b'{"a":"\xed\xa0\x80"}', REFUSED),
    "above-u10ffff": (b'{"a":"\xf4\x90\x80\x80"}', REFUSED),
    "lone-high-surrogate-escape": (b'{"a":"\\ud800"}', REFUSED),
    "lone-low-surrogate-escape": (b'{"a":"\\udc00"}', REFUSED),
    "high-surrogate-then-text": (b'{"a":"\\uD800x"}', REFUSED),
    "reversed-surrogate-pair": (b'{"a":"\\udc00\\ud800"}', REFUSED),
    "lone-surrogate-in-a-key": (b'{"\\ud800":1}', REFUSED),
    "surrogate-pair-is-one-character": (b'{"a":"\\ud83d\\ude00"}', {"a": "\U0001F600"}),
    "escaped-backslash-then-u-text": (b'{"a":"\\\\ud800"}', {"a": "\\ud800"}),
    "raw-non-ascii": ("{\"a\":\"\u00e9\u6f22\U0001F600\"}".encode(), {"a": "\u00e9\u6f22\U0001F600"}),
    "escaped-nul": (b'{"a":"\\u0000"}', {"a": "\x00"}),
    "raw-control-character": (b'{"a":"\x01"}', REFUSED),
    "byte-order-mark": (b'\xef\xbb\xbf{"a":1}', REFUSED),
    "json-whitespace-around": (b' \r\n\t{"a":1} \n', {"a": 1}),
    "form-feed-is-not-whitespace": (b'\x0c{"a":1}', REFUSED),
    "trailing-data": (b'{"a":1}{}', REFUSED),
    "trailing-comma": (b'{"a":[1,]}', REFUSED),
    "leading-zero": (b'{"a":01}', REFUSED),
    "plus-sign": (b'{"a":+1}', REFUSED),
    "bare-decimal-point": (b'{"a":1.}', REFUSED),
    "empty-body": (b"", REFUSED),
    "nested-1024-deep": (b'{"a":' * 1023 + b"[]" + b"}" * 1023, "deep"),
    "nested-1025-deep": (b'{"a":' * 1024 + b"[]" + b"}" * 1024, REFUSED),
    "arrays-1025-deep": (b"[" * 1025 + b"]" * 1025, REFUSED),
    "brackets-inside-strings-are-not-nesting": (b'{"a":"' + b"[" * 2000 + b'\\"' + b"{" * 2000 + b'"}',
                                                {"a": "[" * 2000 + '"' + "{" * 2000}),
}


def _same(a: Any, b: Any) -> bool:
    """Deep equality that tells 1 from 1.0 and 0.0 from -0.0, without recursion (frames may nest 1024 deep)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, float):
            if struct.pack("<d", x) != struct.pack("<d", y):
                return False
        elif x != y:
            return False
    return True


def _outcome(body: bytes) -> Any:
    try:
        return P.decode_body(body)
    except P.TrainerError as e:
        assert e.code == P.FRAME_MALFORMED
        return REFUSED


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_each_decoder_follows_the_protocols_json_rules_on_edge_cases(decoder, name):
    body, expected = EDGE_CASES[name]

    got = _outcome(body)

    if expected is REFUSED:
        assert got is REFUSED
    elif expected == "deep":
        depth = 0
        while isinstance(got, dict):
            got, depth = got["a"], depth + 1
        assert got == [] and depth == 1023
    else:
        assert got is not REFUSED and _same(got, expected), got


def _random_number(rng: random.Random) -> str:
    k = rng.random()
    sign = "-" if rng.random() < 0.3 else ""
    if k < 0.25:  # any double, as Python prints it
        x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        return repr(x) if x == x and abs(x) != float("inf") else "0"
    if k < 0.45:  # integers around and beyond the 64-bit range
        return sign + str(rng.getrandbits(rng.choice([8, 53, 62, 63, 64, 65, 70, 128, 1100])))
    if k < 0.6:  # 2**53 +- a little, halfway cases for rounding
        return sign + str((1 << rng.randint(53, 66)) + rng.randint(-3, 3)) + rng.choice(["", ".5", ".0", ".4999999999999999999"])
    digits = lambda lo, hi: "".join(rng.choice("0123456789") for _ in range(rng.randint(lo, hi)))  # noqa: E731
    mantissa = (digits(1, 25).lstrip("0") or "0") + rng.choice(["", "." + digits(1, 30)])
    exponent = rng.choice(["", f"e{rng.randint(-340, 340)}", f"E+{rng.randint(0, 330)}", f"e-{rng.randint(0, 30)}"])
    return sign + mantissa + exponent


_PIECES = ["a", "\u00e9", "\u6f22", "\U0001F600", "\\n", "\\\"", "\\\\", "\\/", "\\u0041", "\\u00e9", "\\ud83d\\ude00",
           "\\ud800", "\\udfff", "\\ud800\\u0041", "[", "]", "{", "}", "1e400", "\\u0000", " ", "\\t"]


def _random_string(rng: random.Random) -> str:
    return '"' + "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 6))) + '"'


def _random_value(rng: random.Random, depth: int) -> str:
    k = rng.random()
    if depth > 3 or k < 0.45:
        return _random_number(rng)
    if k < 0.7:
        return _random_string(rng)
    if k < 0.75:
        return rng.choice(["true", "false", "null", "NaN", "Infinity"])
    if k < 0.88:
        return "[" + ",".join(_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))) + "]"
    return "{" + ",".join(f"{_random_string(rng)}:{_random_value(rng, depth + 1)}" for _ in range(rng.randint(0, 3))) + "}"


def test_orjson_and_the_stdlib_decoder_agree_on_seeded_random_documents():
    if "orjson" not in P._DECODERS:
        pytest.skip("orjson is not installed in this Python")
    rng = random.Random(20261128)
    previous = P.DECODER
    try:
        for i in range(6000):
            body = ('{"type":"batch","rows":[' + ",".join(_random_value(rng, 1) for _ in range(3)) + "]}").encode()
            P.use_decoder("orjson")
            fast = _outcome(body)
            P.use_decoder("stdlib")
            fallback = _outcome(body)
            assert (fast is REFUSED) == (fallback is REFUSED), (i, body, fast, fallback)
            assert fast is REFUSED or _same(fast, fallback), (i, body, fast, fallback)
    finally:
        P.use_decoder(previous)


def test_the_stdlib_decoder_is_used_when_asked_for_and_orjson_otherwise():
    code = "from provena_trainer import protocol as P; print(P.DECODER)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TRAINER_DIR), os.environ.get("PYTHONPATH")]))}
    forced = subprocess.run([sys.executable, "-c", code], env={**env, "PROVENA_TRAINER_JSON": "stdlib"},
                            capture_output=True, text=True, check=True).stdout.strip()
    default = subprocess.run([sys.executable, "-c", code], env={k: v for k, v in env.items() if k != "PROVENA_TRAINER_JSON"},
                             capture_output=True, text=True, check=True).stdout.strip()

    assert forced == "stdlib"
    assert default == ("orjson" if "orjson" in P._DECODERS else "stdlib")
