"""Property tests: whatever a browser, or a raw client, sends, the site keeps its contracts.

Hypothesis generates the input: any text (control characters, NUL, lone surrogates sent as
the invalid UTF-8 bytes a raw client can put on the wire), bodies past MAX_CONTENT_LENGTH,
crafted session cookies, and ``next`` targets shaped like open redirects. The rules: never
a 5xx, an oversized body gets the 413 page, and nothing sends a browser to another origin.
``--hypothesis-show-statistics`` shows how many cases ran and which answers they got.
"""

import base64
import json
import zlib
from dataclasses import dataclass
from string import ascii_letters, digits
from urllib.parse import quote, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from werkzeug.http import dump_cookie
from werkzeug.test import TestResponse

from loginflow import events, throttle
from loginflow.errors import MESSAGES
from loginflow.forms import USERNAME_MAX
from loginflow.security import safe_next

from .actions import PASSWORD, csrf_token, sign_in

SITE = "http://localhost/"
PAGE_BUDGET = 64 * 1024  # the cookie lab's page, whatever session cookie it is shown
FORM_TYPE = "application/x-www-form-urlencoded"


def generated(cases: int) -> settings:
    """``cases`` examples, sharing the test's app; Flask, not Hypothesis, sets the pace."""
    return settings(
        max_examples=cases,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


# ---- Hostile text ---------------------------------------------------------------------------

# Every code point, lone surrogates included: they travel as the bytes "\ud800" would
# have in UTF-8 (ED A0 80), which no browser sends but any raw client can.
ANY_CHARACTER = st.characters(exclude_categories=())
CONTROL = st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u200b\u2028\u2029\ufeff")
# Values some field accepts, so that the other fields of the form decide the answer.
ACCEPTED_SOMEWHERE = (
    "alice", "light", "dark", "session", "minute", "day", "year", "y", "false", PASSWORD,
    "a" * 32, "a" * 33, "p" * 128, "p" * 129, "n" * 200, "n" * 201,
)  # fmt: skip


def repeated(unit: str, length: int) -> str:
    """``unit`` repeated to ``length`` characters: a huge value that costs nothing to draw."""
    return (unit * (length // len(unit) + 1))[:length]


def texts(long_sizes: SearchStrategy[int]) -> SearchStrategy[str]:
    """Anything, controls only, a value some field accepts, or long, of one of ``long_sizes``."""
    return st.one_of(
        st.text(ANY_CHARACTER, max_size=40),
        st.text(CONTROL, max_size=8),
        st.sampled_from(ACCEPTED_SOMEWHERE),
        st.builds(repeated, st.text(ANY_CHARACTER, min_size=1, max_size=3), long_sizes),
    )


# Short, or past the 64 KB limit once percent-encoded (the limit itself: see the 413 test).
FIELD_VALUES = texts(st.integers(0, 2_000) | st.integers(22_000, 300_000))
# Past the 8 KB or so that servers accept in a request line or a header.
QUERY_VALUES = COOKIE_TEXT = texts(st.integers(0, 4_000))

# ---- Redirect targets -----------------------------------------------------------------------

# What open redirects are made of: slashes and backslashes, schemes, credentials, encoded
# separators, the blanks and controls browsers drop, and look-alike slashes.
REDIRECT_PIECES = (
    "/", "//", "\\", "/\\", "\\/", ":", "http:", "https:", "HTTP://", "javascript:", "data:",
    "@", "localhost", "evil.example", "%2F", "%2f", "%5C", "%5c", "%252F", "%2e", "%09",
    "%0A", "%0d", "%00", "%20", "%", "\t", "\n", "\r", " ", "\x00", "\x0b", "\x0c", "\x7f",
    "\u3000", "\uff0f", "\u2215", "\u2044", "?", "#", ".", "..", "account",
)  # fmt: skip


def redirect_targets(characters: SearchStrategy[str]) -> SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(REDIRECT_PIECES),
        st.text(characters, min_size=1, max_size=3),
        st.binary(min_size=1, max_size=2).map(lambda raw: quote(raw, safe="")),
    )
    return st.one_of(
        st.lists(piece, min_size=1, max_size=8).map("".join),
        st.lists(piece, max_size=8).map(lambda pieces: "/" + "".join(pieces)),
        st.text(characters, max_size=24),
    )


TARGETS = redirect_targets(ANY_CHARACTER)
# The test client encodes a str query as UTF-8, which a lone surrogate cannot be.
SENDABLE_TARGETS = redirect_targets(st.characters(exclude_categories=("Cs",)))

# Ordinary links on this site: letters of any script, digits, what RFC 3986 allows in a
# path, a percent-escape, a query.
PATH_CHARACTERS = "-._~!$&'()*+,;=:@"
SAME_SITE_PATHS = st.builds(
    lambda first, rest, escape, query: f"/{first}{rest}{escape}{query}",
    st.characters(categories=("L", "N"), include_characters=PATH_CHARACTERS),
    st.text(st.characters(categories=("L", "N"), include_characters=PATH_CHARACTERS + "/")),
    st.sampled_from(("", "%20", "%C3%A9", "%3F", "%25")),
    st.just("")
    | st.text(st.characters(categories=("L", "N"), include_characters="=&/?#")).map("?".__add__),
)

# ---- Session cookies ------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def flask_shaped(payload: bytes, compressed: bool, rest: str) -> str:
    """A cookie shaped like Flask's: base64 JSON (zlib'd after a "."), then what follows."""
    return ("." + b64(zlib.compress(payload)) if compressed else b64(payload)) + rest


def nested(label: str, depth: int) -> str:
    return (
        f'{{"note": {json.dumps(label, ensure_ascii=False)}, "deep": {"[" * depth}{"]" * depth}}}'
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ANY_CHARACTER, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(ANY_CHARACTER, max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
JSON_TEXT = JSON_VALUES.map(json.dumps) | st.builds(
    nested, st.text(ANY_CHARACTER, max_size=8), st.integers(0, 3_000)
)
# json.loads reads bytes in any UTF, so a payload need not be UTF-8.
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be")
PAYLOADS = st.binary(max_size=3_000) | st.builds(
    lambda text, encoding: text.encode(encoding, "surrogatepass"),
    JSON_TEXT,
    st.sampled_from(ENCODINGS),
)
BASE64ISH = st.text(st.sampled_from(ascii_letters + digits + "-_."), max_size=40)
SESSION_COOKIES = st.one_of(
    COOKIE_TEXT,
    BASE64ISH,
    st.builds(flask_shaped, PAYLOADS, st.booleans(), st.just(".Z2l2ZQ.c2lnbmF0dXJl") | BASE64ISH),
)
REMEMBER_COOKIES = COOKIE_TEXT | st.tuples(
    st.text(ANY_CHARACTER, max_size=20), st.text(ANY_CHARACTER, max_size=50)
).map(":".join)
COOKIE_VALUES = {"session": SESSION_COOKIES, "remember": REMEMBER_COOKIES, "theme": COOKIE_TEXT}

# UTF-16 JSON in which one code unit carries a '"' byte (U+2241 is 41 22 in UTF-16-LE), so
# that counting nesting byte by byte takes the 4,000 brackets after it for a string.
HIDDEN_NESTING = flask_shaped(
    ('{"note": "\u2241", "deep": ' + "[" * 4_000).encode("utf-16-le"), True, ""
)
# As much text as the lab decodes, all of it apostrophes, each of which the page escapes
# to five bytes (&#39;): about the largest page a session cookie can make.
LARGEST_PAGE = flask_shaped(json.dumps("'" * 8_150).encode(), True, "")


# ---- Sending and reading ----------------------------------------------------------------------


def reset_throttle(app: Flask) -> None:
    with app.app_context():
        counting = throttle.counters()
        assert counting is not None
        counting.storage.reset()


def encoded(fields: dict[str, str]) -> str:
    """URL-encoded, every byte of the UTF-8 as %XX, lone surrogates too (%ED%A0%80).

    Browsers leave letters and digits as they are; the server decodes the same bytes
    either way, and this way a 300 KB value is encoded in C, not byte by byte in Python.
    """
    return "&".join(f"{name}={percent_encoded(value)}" for name, value in fields.items())


def percent_encoded(value: str) -> str:
    raw = value.encode("utf-8", "surrogatepass")
    return "%" + raw.hex("%") if raw else ""


def cookie_header(name: str, value: str, *, quoted: bool) -> str:
    """The Cookie header as a WSGI server hands it over: the bytes, read as Latin-1.

    ``quoted`` sends the value as Werkzeug quotes cookies it sets (backslash escapes);
    otherwise its UTF-8 bytes go as they are, lone surrogates and all.
    """
    if quoted:
        text = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return dump_cookie(name, text, max_size=0).partition(";")[0]
    return f"{name}=" + value.encode("utf-8", "surrogatepass").decode("latin-1")


def get_with_cookie(app: Flask, page: str, name: str, value: str, *, quoted: bool) -> TestResponse:
    """GET ``page`` carrying only this cookie, in the header exactly as a raw client sends it."""
    # No cookie jar: the test client would replace the header with the jar's cookies.
    client = app.test_client(use_cookies=False)
    header = cookie_header(name, value, quoted=quoted)
    response = client.get(page, environ_overrides={"HTTP_COOKIE": header})
    assert response.request.headers["Cookie"] == header  # it went, parsed or not
    return response


def browser_reading(target: str) -> str:
    """``target`` as WHATWG URL parsing reads it: tabs and newlines dropped, "\\" as "/"."""
    return target.translate({0x09: None, 0x0A: None, 0x0D: None}).replace("\\", "/")


def resolved_origin(target: str) -> tuple[str, str]:
    """The scheme and host a browser on this site goes to when sent to ``target``."""
    url = urlsplit(urljoin(SITE, target))
    return url.scheme, url.netloc


# ---- safe_next --------------------------------------------------------------------------------


@generated(1_300)
@given(target=TARGETS)
def test_safe_next_accepts_no_target_a_browser_resolves_to_another_origin(target: str) -> None:
    accepted = safe_next(target)
    event("accepted" if accepted else "refused")
    assert accepted in (None, target)
    if accepted is not None:
        assert resolved_origin(accepted) == ("http", "localhost")
        assert resolved_origin(browser_reading(accepted)) == ("http", "localhost")


@generated(300)
@given(path=SAME_SITE_PATHS)
@example(path="/account?x=1")
def test_safe_next_keeps_every_plain_path_on_this_site(path: str) -> None:
    assert safe_next(path) == path


@generated(60)
@given(target=SENDABLE_TARGETS)
def test_sign_in_never_redirects_to_another_origin(signed_up: FlaskClient, target: str) -> None:
    response = sign_in(signed_up, next_path=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    event("next kept" if location != "/account" else "next dropped")
    assert resolved_origin(location) == ("http", "localhost")
    assert resolved_origin(browser_reading(location)) == ("http", "localhost")


# ---- Forms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    path: str
    fields: tuple[str, ...]
    query: tuple[str, ...] = ()


FORMS = [
    pytest.param(Form("/register", ("username", "password", "confirm")), id="register"),
    pytest.param(Form("/login", ("username", "password", "remember"), ("next",)), id="login"),
    pytest.param(Form("/cookies/theme", ("theme", "lifetime")), id="theme"),
    pytest.param(Form("/cookies/note", ("note",)), id="note"),
]


@pytest.mark.parametrize("form", FORMS)
@generated(90)
@given(data=st.data())
def test_any_form_input_is_validated_or_refused_as_too_large_never_a_server_error(
    app: Flask, form: Form, data: st.DataObject
) -> None:
    reset_throttle(app)  # counts start afresh, so each case is validated rather than throttled
    client = app.test_client()
    fields = {name: data.draw(FIELD_VALUES, label=name) for name in form.fields}
    query = encoded({name: data.draw(QUERY_VALUES, label=name) for name in form.query})
    body = encoded(fields | {"csrf_token": csrf_token(client)})
    response = client.post(form.path, query_string=query, data=body, content_type=FORM_TYPE)
    event(f"status {response.status_code}")
    if len(body) > app.config["MAX_CONTENT_LENGTH"]:
        assert response.status_code == 413
        assert MESSAGES[413] in response.text
    else:
        assert response.status_code in (302, 422)  # not 400: the CSRF check passed


@pytest.mark.parametrize("form", FORMS)
@generated(15)
@given(excess=st.integers(-64, 64))
@example(excess=0)
@example(excess=1)
def test_only_a_body_over_max_content_length_gets_the_413_page(
    app: Flask, form: Form, excess: int
) -> None:
    reset_throttle(app)
    client = app.test_client()
    first, *others = form.fields
    rest = "&" + encoded(dict.fromkeys(others, "x") | {"csrf_token": csrf_token(client)})
    size = app.config["MAX_CONTENT_LENGTH"] + excess
    body = f"{first}=" + "x" * (size - len(first) - 1 - len(rest)) + rest
    assert len(body) == size
    response = client.post(form.path, data=body, content_type=FORM_TYPE)
    if excess > 0:
        assert response.status_code == 413
        assert MESSAGES[413] in response.text
    else:
        assert response.status_code in (302, 422)


@generated(40)
@given(username=st.text(ANY_CHARACTER, max_size=80) | st.text(CONTROL, max_size=8))
def test_throttled_sign_in_answers_429_whatever_the_username(app: Flask, username: str) -> None:
    app.config["THROTTLE_SIGN_IN_PER_USERNAME"] = "1 per minute"
    reset_throttle(app)
    client = app.test_client()
    body = encoded({"username": username, "password": "x", "csrf_token": csrf_token(client)})
    checked: list[str | None] = []
    with events.SIGN_IN_FAILED.connected_to(lambda _, username: checked.append(username)):
        assert client.post("/login", data=body, content_type=FORM_TYPE).status_code == 422
    # A lone surrogate is not UTF-8: the server keeps its bytes as "%ED%A0%80", longer.
    decodable = not any(0xD800 <= ord(c) <= 0xDFFF for c in username)
    if decodable and 0 < len(username.strip()) <= USERNAME_MAX:
        assert checked, "a username the form accepts has its password checked"
    throttled = client.post("/login", data=body, content_type=FORM_TYPE)
    if not checked:
        # Refused by the form before any password check: nothing guessed, nothing counted.
        assert throttled.status_code == 422
        return
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1


# ---- Cookies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(COOKIE_VALUES))
@generated(80)
@given(data=st.data())
def test_no_cookie_value_gives_a_server_error(app: Flask, name: str, data: st.DataObject) -> None:
    value = data.draw(COOKIE_VALUES[name], label="value")
    page = data.draw(st.sampled_from(["/", "/login", "/register", "/cookies/", "/account"]))
    quoted = data.draw(st.booleans(), label="quoted")
    response = get_with_cookie(app, page, name, value, quoted=quoted)
    assert response.status_code == (302 if page == "/account" else 200)


@generated(200)
@given(value=SESSION_COOKIES, quoted=st.booleans())
@example(value="a", quoted=False)  # base64 of 4n+1 characters cannot be decoded
@example(value=HIDDEN_NESTING, quoted=False)
@example(value=LARGEST_PAGE, quoted=False)
def test_cookie_lab_shows_any_session_cookie_on_a_page_under_64_kb(
    app: Flask, value: str, quoted: bool
) -> None:
    response = get_with_cookie(app, "/cookies/", "session", value, quoted=quoted)
    assert response.status_code == 200
    assert len(response.data) < PAGE_BUDGET
