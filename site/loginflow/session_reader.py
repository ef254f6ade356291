"""Reading a Flask session cookie without the secret key, as the cookie lab shows it.

Anyone can send any cookie, and this reads it before Flask has checked its signature,
so every step is bounded: the cookie's length, what it inflates to, how deeply its JSON
nests, and how much of it is shown.
"""

import binascii
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadData, BadSignature
from itsdangerous.encoding import base64_decode

MAX_COOKIE_CHARS = 4096  # browsers keep no longer cookie
MAX_PAYLOAD_BYTES = 8 * 1024
MAX_NESTING = 16
MAX_SHOWN_CHARS = 16 * 1024
# Session keys whose values are secrets or noise; shown shortened.
SHORTENED_KEYS = ("csrf_token", "_id", "_user_id")


class Unreadable(Exception):
    """The session cookie cannot be shown; the message says why."""


@dataclass(frozen=True)
class SessionView:
    signed: bool
    text: str | None
    problem: str | None
    legend: tuple[tuple[str, str], ...] = ()  # (key, what it is) for each key this site sets
    other_keys: bool = False  # keys this site never sets: someone else made the cookie


def read_session_cookie(cookie: str, legend: Mapping[str, str]) -> SessionView:
    """What the session cookie says, read without the key, and whether Flask trusts it.

    ``legend`` says what each key is, for the keys that have a meaning to show.
    """
    signed = _signature_valid(cookie)
    try:
        data = _payload(cookie)
        text = _readable(data)
    except Unreadable as error:
        return SessionView(signed=signed, text=None, problem=str(error))
    keys = data if isinstance(data, dict) else {}
    return SessionView(
        signed=signed,
        text=text,
        problem=None,
        # In the order the keys are shown; what a key is, never what it holds.
        legend=tuple((key, legend[key]) for key in keys if key in legend),
        other_keys=any(key not in legend for key in keys),
    )


def _payload(cookie: str) -> Any:
    """The cookie's JSON, decoded with bounds, because anyone can send any cookie here.

    Flask checks the signature before it decodes; this page decodes first, to show what
    the cookie says, so every step is limited: the cookie's length, what it decompresses
    to, and how deeply its JSON nests.
    """
    if len(cookie) > MAX_COOKIE_CHARS:
        raise Unreadable(f"it is longer than a browser keeps ({MAX_COOKIE_CHARS} characters)")
    compressed = cookie.startswith(".")
    try:
        raw = base64_decode(cookie.removeprefix(".").split(".")[0])
        if compressed:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(raw, MAX_PAYLOAD_BYTES)
            if inflater.unconsumed_tail:
                raise Unreadable(f"it inflates to more than {MAX_PAYLOAD_BYTES} bytes")
        # UTF-8 only (json.loads would also take UTF-16), so _nesting counts what it parses.
        text = raw.decode("utf-8")
        if _nesting(text) > MAX_NESTING:
            raise Unreadable(f"its JSON nests deeper than {MAX_NESTING} levels")
        return json.loads(text)
    except (BadData, binascii.Error, ValueError, zlib.error):
        raise Unreadable("it was not made by Flask") from None


def _readable(data: Any) -> str:
    if isinstance(data, dict):
        for key in SHORTENED_KEYS:
            if isinstance(data.get(key), str):
                data[key] = shorten(data[key])
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # JSON may carry lone surrogates, which no page can encode: show them escaped.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > MAX_SHOWN_CHARS:
        raise Unreadable(f"it is longer than this page shows ({MAX_SHOWN_CHARS} characters)")
    return text


def _nesting(text: str) -> int:
    """How deeply ``text`` nests arrays and objects, counted without parsing (no recursion)."""
    deepest = depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _signature_valid(cookie: str) -> bool:
    """Whether Flask accepts the cookie: its signature matches the secret key.

    Flask's own ``loads``, which checks the signature before decoding anything, never
    ``loads_unsafe``, which would decode (and inflate) whatever was sent.
    """
    interface = current_app.session_interface
    if not isinstance(interface, SecureCookieSessionInterface):
        return False  # a session kept elsewhere than in Flask's signed cookie
    serializer = interface.get_signing_serializer(current_app)
    if serializer is None:
        return False
    try:
        serializer.loads(cookie)
    except BadSignature:
        return False
    return True


def shorten(value: str, keep: int = 8) -> str:
    return value[:keep] + "…" if len(value) > keep else value
