"""The cookie lab: each Set-Cookie it sends and each session operation it makes."""

import base64
import html
import json
import random
import re
import zlib
from types import SimpleNamespace

import itsdangerous.url_safe
import pytest
from flask import Flask
from flask.testing import FlaskClient

from loginflow.forms import NOTE_MAX

from .actions import attributes, csrf_token, register, set_cookie, sign_in
from .conftest import MakeApp
from .test_pages import Elements

LIFETIME_CHOICES = ("session", "minute", "day", "year")


def save_theme(client: FlaskClient, theme: str = "dark", lifetime: str = "day"):
    data = {"theme": theme, "lifetime": lifetime, "csrf_token": csrf_token(client, "/cookies/")}
    return client.post("/cookies/theme", data=data)


def post(client: FlaskClient, path: str, **data: str):
    return client.post(path, data=data | {"csrf_token": csrf_token(client, "/cookies/")})


def session_contents(client: FlaskClient) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def section(page: str, section_id: str) -> str:
    """The HTML of the lab's part with this id: a card, or the part of a card it begins."""
    start = page.index(f'id="{section_id}"')
    ends = [page.find(end, start) for end in ('<section class="card"', "</section>")]
    return page[start : min(end for end in ends if end != -1)]


def checked_lifetime(page: str) -> list[str]:
    """The values of the checked "Keep it for" radios."""
    return re.findall(r'<input checked id="lifetime-\d" name="lifetime"[^>]* value="(\w+)"', page)


def legend_keys(page: str) -> list[str]:
    return re.findall(r"<dt><code>([^<]+)</code></dt>", section(page, "session"))


def header(page: str) -> str:
    return page[page.index("<header") : page.index("</header>")]


@pytest.mark.parametrize(
    ("lifetime", "max_age"),
    [("minute", "60"), ("day", "86400"), ("year", "31536000")],
)
def test_theme_cookie_has_the_chosen_max_age(
    client: FlaskClient, lifetime: str, max_age: str
) -> None:
    response = save_theme(client, "dark", lifetime)
    assert response.status_code == 302
    header = set_cookie(response, "theme")
    assert header.startswith("theme=dark;")
    cookie = attributes(header)
    assert cookie["max-age"] == max_age
    assert "expires" in cookie
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert "httponly" not in cookie  # page scripts may read it: the lab shows the difference


def test_theme_until_the_browser_closes_has_no_expiry(client: FlaskClient) -> None:
    cookie = attributes(set_cookie(save_theme(client, "light", "session"), "theme"))
    assert "max-age" not in cookie
    assert "expires" not in cookie


def test_saving_shows_the_header_that_was_sent(client: FlaskClient) -> None:
    save_theme(client, "dark", "minute")
    page = client.get("/cookies/").text
    assert "Sent: Set-Cookie: theme=dark; Expires=" in page
    assert "Max-Age=60; Path=/; SameSite=Lax" in page


def test_deleting_the_theme_expires_it_with_the_same_path(client: FlaskClient) -> None:
    save_theme(client)
    response = post(client, "/cookies/theme/delete")
    cookie = attributes(set_cookie(response, "theme"))
    assert cookie["max-age"] == "0"
    assert cookie["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert cookie["path"] == "/"
    assert client.get_cookie("theme") is None


def test_theme_applies_to_every_page(client: FlaskClient) -> None:
    assert '<html lang="en" data-theme="light">' in client.get("/").text
    save_theme(client, "dark")
    for path in ("/", "/login", "/register", "/cookies/", "/missing"):
        assert '<html lang="en" data-theme="dark">' in client.get(path).text, path


def test_unknown_theme_value_is_ignored(client: FlaskClient) -> None:
    client.set_cookie("theme", '"><script>alert(1)</script>')
    assert '<html lang="en" data-theme="light">' in client.get("/").text


def test_lab_reads_the_theme_cookie_back(client: FlaskClient) -> None:
    save_theme(client, "dark")
    assert (
        'request.cookies.get("theme")</code> → <code>"dark"</code>' in client.get("/cookies/").text
    )


def checked_theme(page: str) -> list[str]:
    return re.findall(r'<input checked id="theme-\d" name="theme"[^>]* value="(\w+)"', page)


def test_the_theme_form_starts_at_the_theme_in_use(client: FlaskClient) -> None:
    assert checked_theme(client.get("/cookies/").text) == ["light"]  # no cookie yet
    save_theme(client, "dark")
    assert checked_theme(client.get("/cookies/").text) == ["dark"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"theme": "purple", "lifetime": "day"}, "Not a valid choice"),
        ({"theme": "dark", "lifetime": "forever"}, "Not a valid choice"),
        ({"lifetime": "day"}, "Pick Light or Dark."),
    ],
)
def test_bad_theme_choice_is_refused_with_a_message(
    client: FlaskClient, data: dict, message: str
) -> None:
    response = post(client, "/cookies/theme", **data)
    assert response.status_code == 422
    assert message in response.text
    assert set_cookie(response, "theme") is None


def test_note_is_set_read_with_a_default_and_popped(client: FlaskClient) -> None:
    assert '<q class="note">(no note yet)</q>' in client.get("/cookies/").text
    post(client, "/cookies/note", note="buy milk")
    assert session_contents(client)["note"] == "buy milk"
    assert '<q class="note">buy milk</q>' in client.get("/cookies/").text
    post(client, "/cookies/note/remove")
    assert "note" not in session_contents(client)
    # pop with a default: removing twice is not an error.
    response = post(client, "/cookies/note/remove")
    assert response.status_code == 302
    assert "There was no note to remove." in client.get("/cookies/").text


BAD_NOTES = {
    "empty": ("", "Type a note first."),
    "only spaces": ("   ", "Type a note first."),
    "only whitespace": ("\t \r\n ", "Type a note first."),
    "too long": ("x" * 151, "Keep the note to 150 characters."),
}


@pytest.mark.parametrize(("note", "message"), BAD_NOTES.values(), ids=BAD_NOTES.keys())
def test_bad_note_is_refused_and_the_old_one_kept(
    client: FlaskClient, note: str, message: str
) -> None:
    post(client, "/cookies/note", note="keep me")
    response = post(client, "/cookies/note", note=note)
    assert response.status_code == 422
    assert message in section(response.text, "session-note")
    assert "Saved:" not in response.text
    assert session_contents(client)["note"] == "keep me"


def test_a_note_of_only_spaces_saves_nothing(client: FlaskClient) -> None:
    response = post(client, "/cookies/note", note="   ")
    assert response.status_code == 422
    assert "Type a note first." in response.text
    assert "note" not in session_contents(client)
    assert "Saved:" not in client.get("/cookies/").text


def test_a_note_is_saved_without_its_surrounding_spaces(client: FlaskClient) -> None:
    post(client, "/cookies/note", note="  buy milk  ")
    assert session_contents(client)["note"] == "buy milk"


# Markup a note may hold, and the characters the page must hold for it instead.
MARKUP_NOTES = {
    "img with onerror": ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    "script": ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    "out of an attribute": ('"><svg onload=alert(1)>', "&#34;&gt;&lt;svg onload=alert(1)&gt;"),
}


def markup_not_the_lab_own(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """The elements of ``page`` that typed markup would add: an image, an SVG, an inline
    script, or any element with an event handler. The lab itself has none of them."""
    return [
        (tag, attrs)
        for tag, attrs in Elements(page).found
        if tag in ("img", "svg")
        or (tag == "script" and not attrs.get("src"))
        or any(name.startswith("on") for name in attrs)
    ]


@pytest.mark.parametrize(("note", "escaped"), MARKUP_NOTES.values(), ids=MARKUP_NOTES.keys())
def test_a_note_holding_markup_is_shown_as_text(
    client: FlaskClient, note: str, escaped: str
) -> None:
    assert post(client, "/cookies/note", note=note).status_code == 302
    assert session_contents(client)["note"] == note  # kept as typed
    page = client.get("/cookies/").text
    assert f'<q class="note">{escaped}</q>' in page
    assert json.loads(shown_session(page))["note"] == note  # and, as text, in the session
    assert markup_not_the_lab_own(page) == []


def test_a_refused_note_holding_markup_comes_back_as_text_in_its_box(
    client: FlaskClient,
) -> None:
    note = '"><script>alert(1)</script>' * 6  # too long: sent back to be corrected
    assert len(note) > NOTE_MAX
    response = post(client, "/cookies/note", note=note)
    assert response.status_code == 422
    [box] = [attrs for tag, attrs in Elements(response.text).found if attrs.get("name") == "note"]
    assert box["value"] == note  # one attribute, holding every character typed
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;' in response.text
    assert markup_not_the_lab_own(response.text) == []


def test_lab_shows_the_session_decoded_and_secrets_shortened(client: FlaskClient) -> None:
    register(client)
    post(client, "/cookies/note", note="visible to anyone holding the cookie")
    session_cookie = client.get_cookie("session").value  # the one the next request sends
    page = client.get("/cookies/").text
    assert "&#34;note&#34;: &#34;visible to anyone holding the cookie&#34;" in page
    assert "&#34;_user_id&#34;" in page
    assert "Signature: valid." in page
    token = session_contents(client)["csrf_token"]
    assert token not in page  # only its first characters
    assert f"&#34;csrf_token&#34;: &#34;{token[:8]}…&#34;" in page
    assert session_cookie not in page
    assert session_cookie[:8] + "…" in page


def test_lab_says_when_a_session_cookie_was_tampered_with(client: FlaskClient) -> None:
    client.set_cookie("session", "eyJub3RlIjoiZm9yZ2VkIn0.aaaaaa.not-the-signature")
    page = client.get("/cookies/").text
    assert "&#34;note&#34;: &#34;forged&#34;" in page
    assert "does not match" in page
    client.set_cookie("session", "garbage")
    assert client.get("/cookies/").status_code == 200


def test_lab_never_shows_the_remember_validator(client: FlaskClient) -> None:
    register(client)
    sign_in(client, remember=True)
    remember = client.get_cookie("remember").value
    page = client.get("/cookies/").text
    assert remember.split(":")[1] not in page
    assert remember[:8] + "…" in page


@pytest.mark.parametrize(
    "confirm", [None, "", "no", "YES", "yes ", "1"], ids=lambda value: repr(value)
)
def test_clearing_without_confirm_yes_clears_nothing(client: FlaskClient, confirm: str) -> None:
    register(client)
    post(client, "/cookies/note", note="still here")
    client.get("/cookies/")  # shows, and so forgets, the lab's answer to Save note
    before = session_contents(client)
    assert before["note"] == "still here"
    response = post(client, "/cookies/clear", **({} if confirm is None else {"confirm": confirm}))
    assert response.status_code == 200
    assert "Clear the whole session?" in response.text
    assert session_contents(client) == before
    assert client.get("/account").status_code == 200


def test_clearing_the_session_warns_a_signed_in_user_first(client: FlaskClient) -> None:
    register(client)
    response = post(client, "/cookies/clear")
    assert response.status_code == 200
    assert "Your sign-in lives in the session" in response.text
    assert client.get("/account").status_code == 200  # nothing cleared yet


def test_clearing_the_session_signs_out(client: FlaskClient, app: Flask) -> None:
    register(client)
    post(client, "/cookies/note", note="gone soon")
    response = post(client, "/cookies/clear", confirm="yes")
    assert response.headers["Location"] == "/cookies/?cleared=1&had_sign_in=1#clear"
    assert session_contents(client) == {}
    page = client.get(response.headers["Location"]).text
    assert "You are signed out." in section(page, "clear")
    assert "Signed in as" not in header(page)
    assert client.get("/account").status_code == 302


def test_clearing_the_session_with_a_remember_cookie_shows_the_restore(
    client: FlaskClient,
) -> None:
    register(client)
    sign_in(client, remember=True)
    response = post(client, "/cookies/clear", confirm="yes")
    page = client.get(response.headers["Location"])
    assert "restored from the remember cookie and not fresh" in section(page.text, "clear")
    assert "Signed in as <strong>alice</strong>" in header(page.text)
    assert set_cookie(page, "remember") is not None  # rotated on the restore
    assert "No: restored" in client.get("/account").text


def test_page_scripts_come_from_a_file_not_inline(client: FlaskClient) -> None:
    page = client.get("/cookies/").text
    assert re.search(r'<script src="/static/lab\.js\?v=[0-9a-f]{12}" defer></script>', page)
    assert page.count("<script") == 1


def _unsigned(payload: bytes, *, compress: bool = False) -> str:
    """A session cookie as Flask shapes one, but with no valid signature."""
    body = zlib.compress(payload, 9) if compress else payload
    return ("." if compress else "") + base64.urlsafe_b64encode(body).decode().rstrip("=") + ".x.y"


# Each under the ~4 KB a browser will send for one cookie.
HOSTILE_SESSION_COOKIES = {
    # 825 bytes that inflate to 600 KB of JSON nested 900 deep: once a 542 MB page.
    "inflate bomb": (
        _unsigned(b"[" * 900 + b"0," * 300_000 + b"0" + b"]" * 900, compress=True),
        "it inflates to more than",
    ),
    "deep nesting": (_unsigned(b"[" * 1400 + b"]" * 1400), "its JSON nests deeper than"),
    "not base64": ("%%%.x.y", "it was not made by Flask"),
    "not JSON": (_unsigned(b"\xff\xfe{"), "it was not made by Flask"),
    "longer than a browser keeps": ("a" * 5000, "it is longer than a browser keeps"),
}


@pytest.mark.parametrize(
    ("cookie", "reason"), HOSTILE_SESSION_COOKIES.values(), ids=HOSTILE_SESSION_COOKIES.keys()
)
# The test client warns, as a browser would drop it, about the cookie over 4 KB.
@pytest.mark.filterwarnings("ignore:The 'session' cookie is too large")
def test_lab_shows_a_hostile_session_cookie_only_within_bounds(
    client: FlaskClient, cookie: str, reason: str
) -> None:
    client.set_cookie("session", cookie)
    response = client.get("/cookies/")
    assert response.status_code == 200
    assert len(response.data) < 64 * 1024
    assert f"Not shown: {reason}" in response.text
    assert "Signature: <strong>does not match</strong>" in response.text


def shown_session(page: str) -> str | None:
    """The decoded session as the lab shows it, or None if it says why it shows none."""
    shown = re.search(r'<pre class="json" aria-label="Session contents">(.*?)</pre>', page, re.S)
    return html.unescape(shown.group(1)) if shown else None


def not_shown_because(page: str) -> str | None:
    reason = re.search(r"<p>Not shown: (.*?)\.</p>", page)
    return html.unescape(reason.group(1)) if reason else None


DEEPER = "its JSON nests deeper than 16 levels"
NESTINGS = {
    "16 levels": (b"[" * 16 + b"]" * 16, None),
    "17 levels": (b"[" * 17 + b"]" * 17, DEEPER),
    "brackets inside a string": (b'{"a": "' + b"[" * 20 + b'"}', None),
    "brackets after an escaped quote": (b'{"a": "\\"' + b"[" * 20 + b'"}', None),
    "17 levels after a string with an escape": (
        b'["\\n", ' + b"[" * 16 + b"]" * 16 + b"]",
        DEEPER,
    ),
    "17 levels past a closed list": (b"[" * 8 + b"[], " + b"[" * 9 + b"]" * 9 + b"]" * 8, DEEPER),
    "many lists side by side": (b"[" + b", ".join([b"[[]]"] * 20) + b"]", None),
}


@pytest.mark.parametrize(("payload", "reason"), NESTINGS.values(), ids=NESTINGS.keys())
def test_lab_counts_how_deeply_the_session_nests_outside_strings(
    client: FlaskClient, payload: bytes, reason: str | None
) -> None:
    client.set_cookie("session", _unsigned(payload))
    page = client.get("/cookies/").text
    assert not_shown_because(page) == reason
    if reason is None:
        assert json.loads(shown_session(page)) == json.loads(payload)


@pytest.mark.filterwarnings("ignore:The 'session' cookie is too large")
def test_lab_reads_a_session_cookie_as_long_as_a_browser_keeps_and_no_longer(
    client: FlaskClient,
) -> None:
    longest = _unsigned(b'{"a": "' + b"a" * 3060 + b'"}')
    assert len(longest) == 4096
    client.set_cookie("session", longest)
    assert shown_session(client.get("/cookies/").text) == '{\n  "a": "' + "a" * 3060 + '"\n}'
    client.set_cookie("session", longest + "y")
    page = client.get("/cookies/").text
    assert not_shown_because(page) == "it is longer than a browser keeps (4096 characters)"


def test_lab_shows_a_session_up_to_16384_characters_of_indented_json(
    app: Flask, client: FlaskClient
) -> None:
    # 2338 numbers, one a line under "a", indented by two spaces a level: 16384 characters.
    longest = {"a": [0] * 2335 + [10, 10, 10]}
    client.set_cookie("session", _unsigned(json.dumps(longest).encode(), compress=True))
    shown = shown_session(client.get("/cookies/").text)
    assert shown == json.dumps(longest, indent=2)
    assert len(shown) == 16384
    # One character more, in a cookie this site signed: Flask accepts it, the page shows none.
    signed = app.session_interface.get_signing_serializer(app)
    client.set_cookie("session", signed.dumps({"a": [0] * 2335 + [10, 10, 100]}))
    page = client.get("/cookies/").text
    assert not_shown_because(page) == "it is longer than this page shows (16384 characters)"
    assert "Signature: valid. Flask accepted this session." in page


def test_lab_shows_letters_of_any_language_as_they_are(client: FlaskClient) -> None:
    post(client, "/cookies/note", note="café ☕ 日本")
    assert '"note": "café ☕ 日本"' in shown_session(client.get("/cookies/").text)


def test_lab_shows_a_lone_surrogate_escaped(client: FlaskClient) -> None:
    client.set_cookie("session", _unsigned(b'{"a":"\\ud800"}'))
    response = client.get("/cookies/")
    assert response.status_code == 200
    assert "&#34;a&#34;: &#34;\\ud800&#34;" in response.text


def test_lab_never_inflates_an_unsigned_cookie_to_check_its_signature(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inflated = []
    real = zlib.decompress
    monkeypatch.setattr(zlib, "decompress", lambda *a, **k: inflated.append(1) or real(*a, **k))
    client.set_cookie("session", HOSTILE_SESSION_COOKIES["inflate bomb"][0])
    assert client.get("/cookies/").status_code == 200
    assert inflated == []  # itsdangerous inflates whole only after a valid signature


def test_lab_says_what_each_of_its_own_cookies_is_for(client: FlaskClient) -> None:
    register(client)
    sign_in(client, remember=True)
    save_theme(client, "dark")
    client.set_cookie("analytics_visitor", "t")
    page = client.get("/cookies/").text
    purposes = dict(
        re.findall(r"<tr><td><code>(\w+)</code></td><td>.*?</td><td>([^<]*)</td></tr>", page)
    )
    assert purposes == {
        "session": "Flask&#39;s session: your sign-in, freshness and CSRF token.",
        "remember": "Remember me: brings a sign-in back after a restart.",
        "theme": "Your theme preference, set in this lab.",
        "analytics_visitor": "Not set by this site.",  # its name shown whole
    }


def test_lab_shortens_cookies_it_did_not_set(client: FlaskClient) -> None:
    client.set_cookie("tracker", "t" * 4000)
    page = client.get("/cookies/").text
    assert "t" * 64 + "…" in page
    assert "t" * 65 not in page


def test_lab_shows_a_cookie_of_the_longest_length_shown_whole(client: FlaskClient) -> None:
    client.set_cookie("tracker", "t" * 64)
    assert "<code>" + "t" * 64 + "</code>" in client.get("/cookies/").text


def test_lab_lists_a_bounded_number_of_cookies_its_own_first(client: FlaskClient) -> None:
    for n in range(40):
        client.set_cookie(f"other{n:02}", "x")
    save_theme(client, "dark")
    page = client.get("/cookies/").text
    assert "<code>theme</code>" in page
    assert "<code>session</code>" in page
    assert page.count("Not set by this site.") == 18  # 20 rows in all


SECTION_OF_EACH_BUTTON = {
    "Save theme": ("/cookies/theme", {"theme": "dark", "lifetime": "day"}, "#theme"),
    "Delete theme cookie": ("/cookies/theme/delete", {}, "#theme"),
    "Save note": ("/cookies/note", {"note": "buy milk"}, "#session-note"),
    "Remove note": ("/cookies/note/remove", {}, "#session-note"),
    "Clear the whole session": ("/cookies/clear", {}, "#clear"),
}


@pytest.mark.parametrize(
    ("path", "data", "anchor"), SECTION_OF_EACH_BUTTON.values(), ids=SECTION_OF_EACH_BUTTON.keys()
)
def test_each_button_brings_the_page_back_to_its_section(
    client: FlaskClient, path: str, data: dict, anchor: str
) -> None:
    response = post(client, path, **data)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/cookies/")
    assert location.endswith(anchor)
    page = client.get(location).text
    assert f'id="{anchor[1:]}"' in page
    # What the button did is said in that section, and only there.
    result = re.findall(r'<(?:p|div) class="flash[^"]*" role="status">', page)
    assert len(result) == 1
    assert 'role="status"' in section(page, anchor[1:])


@pytest.mark.parametrize(
    ("path", "section_id"),
    [
        ("/cookies/theme", "theme"),
        ("/cookies/theme/delete", "theme"),
        ("/cookies/note", "session-note"),
        ("/cookies/note/remove", "session-note"),
    ],
)
def test_each_form_posts_to_its_section_so_errors_show_there(
    client: FlaskClient, path: str, section_id: str
) -> None:
    assert f'action="{path}#{section_id}"' in section(client.get("/cookies/").text, section_id)


def test_saving_a_note_says_so_in_the_note_section_once(client: FlaskClient) -> None:
    post(client, "/cookies/note", note="buy milk")
    page = client.get("/cookies/").text
    note = section(page, "session-note")
    assert '<p class="flash flash-success" role="status">Saved: session[' in note
    assert 'class="flash' not in page.replace(note, "")
    # Said once: the next page no longer says it.
    assert "Saved: session[" not in section(client.get("/cookies/").text, "session-note")


def test_a_refused_note_is_explained_in_the_note_section(client: FlaskClient) -> None:
    response = post(client, "/cookies/note", note="")
    assert 'aria-invalid="true"' in section(response.text, "session-note")
    assert "Type a note first." in section(response.text, "session-note")


@pytest.mark.parametrize("lifetime", LIFETIME_CHOICES)
def test_keep_it_for_stays_as_chosen_after_saving(client: FlaskClient, lifetime: str) -> None:
    response = save_theme(client, "dark", lifetime)
    assert checked_lifetime(client.get(response.headers["Location"]).text) == [lifetime]


@pytest.mark.parametrize("query", ["", "?keep=forever", "?keep="])
def test_keep_it_for_starts_at_until_the_browser_closes(client: FlaskClient, query: str) -> None:
    assert checked_lifetime(client.get(f"/cookies/{query}").text) == ["session"]


def test_a_refused_theme_keeps_the_lifetime_that_was_sent(client: FlaskClient) -> None:
    response = post(client, "/cookies/theme", lifetime="year")
    assert response.status_code == 422
    assert checked_lifetime(response.text) == ["year"]


def test_session_legend_explains_each_key_present_and_no_other(client: FlaskClient) -> None:
    register(client)
    post(client, "/cookies/note", note="mine")
    sent = session_contents(client)  # what the next request's cookie holds
    assert {"_user_id", "_fresh", "_fresh_at", "_id", "csrf_token", "note"} <= set(sent)
    page = client.get("/cookies/").text
    assert sorted(legend_keys(page)) == sorted(sent)
    explained = section(page, "session")
    assert "The session token of your sign-in" in explained
    assert "When you typed your password" in explained
    assert "The forms&#39; CSRF token" in explained
    assert "Yours: the note you saved" in explained
    assert "Any other key" not in explained


def test_session_legend_explains_flashes_waiting_for_the_next_page(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "for the next page")]
    page = client.get("/cookies/").text
    assert "_flashes" in legend_keys(page)
    assert "Messages waiting for the next page" in section(page, "session")


def test_session_legend_names_keys_this_site_never_sets_as_others(client: FlaskClient) -> None:
    forged = _unsigned(json.dumps({"note": "x", "is_admin": True}).encode())
    client.set_cookie("session", forged)
    page = client.get("/cookies/").text
    assert legend_keys(page) == ["note"]
    assert "<dt>Any other key</dt><dd>Not set by this site.</dd>" in page


def test_session_legend_is_left_out_for_a_session_that_is_no_object(client: FlaskClient) -> None:
    client.set_cookie("session", _unsigned(b"[1, 2]"))
    page = client.get("/cookies/").text
    assert "What each key is" not in page


def _sign_in_and_clear(client: FlaskClient, *, remember: bool) -> str:
    register(client)
    sign_in(client, remember=remember)
    return post(client, "/cookies/clear", confirm="yes").headers["Location"]


def _visitor_clears(client: FlaskClient) -> str:
    post(client, "/cookies/note", note="a visitor's note")
    return post(client, "/cookies/clear").headers["Location"]


def _remembered_then_reloaded(client: FlaskClient) -> str:
    location = _sign_in_and_clear(client, remember=True)
    client.get(location)  # the remember cookie restores the sign-in here
    return location  # the same page again: signed in, but not restored on this request


def _remember_cookie_that_brings_nothing_back(client: FlaskClient) -> str:
    register(client)
    client.set_cookie("remember", "unknown-selector:wrong-validator")
    return post(client, "/cookies/clear", confirm="yes").headers["Location"]


# How the session came to be cleared: what the page after it must say, and whether the
# header says "Signed in as". The two must agree in every state.
CLEARED_STATES = {
    "visitor": (
        _visitor_clears,
        ["You were not signed in", "You are still signed out."],
        False,
    ),
    "signed in": (
        lambda client: _sign_in_and_clear(client, remember=False),
        ["Your sign-in lived in the session", "You are signed out.", "Had you signed in with"],
        False,
    ),
    "signed in, remembered": (
        lambda client: _sign_in_and_clear(client, remember=True),
        ["Your sign-in lived in the session", "you are signed in again, restored"],
        True,
    ),
    "signed in, remembered, page reloaded": (
        _remembered_then_reloaded,
        ["Your sign-in lived in the session", "You are signed in now, as <strong>alice</strong>"],
        True,
    ),
    "signed in, remember cookie brings nothing back": (
        _remember_cookie_that_brings_nothing_back,
        ["Your sign-in lived in the session", "You are signed out.", "brought no sign-in back"],
        False,
    ),
}


@pytest.mark.parametrize(
    ("clear", "said", "signed_in"), CLEARED_STATES.values(), ids=CLEARED_STATES.keys()
)
def test_the_cleared_message_is_true_in_every_state(
    client: FlaskClient, clear, said: list[str], signed_in: bool
) -> None:
    page = client.get(clear(client)).text
    message = section(page, "clear")
    for words in said:
        assert words in message
    assert ("Signed in as" in header(page)) is signed_in
    # Never "signed out" under a header that says "Signed in as", nor the reverse.
    assert ("You are signed out." in message or "still signed out" in message) is not signed_in
    if "You were not signed in" in message:
        assert "Your sign-in lived" not in message


def test_each_section_id_names_one_element_only(client: FlaskClient) -> None:
    """A section sharing its id with a field would take the field's label from it."""
    register(client)
    post(client, "/cookies/note", note="mine")
    ids = re.findall(r' id="([^"]+)"', client.get("/cookies/").text)
    for anchor in ("sent", "session", "theme", "session-note", "clear", "script"):
        assert ids.count(anchor) == 1, anchor


# Browsers need keep a cookie only while it fits in 4096 bytes; a larger session cookie may
# be dropped, and the person silently signed out.
COOKIE_LIMIT = 4096
# Characters beyond the Basic Multilingual Plane, as many as the lab keeps: in the
# session's JSON each is two \\u escapes, 12 bytes, the most any character takes. Drawn
# at random, so that compression gains little, and from a fixed seed: the same every run.
_random = random.Random(0)  # noqa: S311
LONGEST_NOTE = "".join(chr(_random.randrange(0x10000, 0x110000)) for _ in range(NOTE_MAX))


@pytest.mark.parametrize("compressible", [True, False], ids=["as-sent", "incompressible"])
def test_the_largest_session_cookie_the_site_writes_fits_in_a_browser(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, compressible: bool
) -> None:
    name = "s" * 64  # the longest cookie name the settings allow
    app = make_app(SESSION_COOKIE_NAME=name)
    client = app.test_client()
    register(client, "a" * 32)  # the longest username, signed in and fresh
    token = csrf_token(client)
    assert f'maxlength="{NOTE_MAX}"' in section(client.get("/cookies/").text, "session-note")
    # Two messages waiting for a page, each naming the account or a count.
    client.post("/register", data={"csrf_token": token})
    client.post("/account/sign-out-everywhere-else", data={"csrf_token": token})
    if not compressible:
        # As if zlib could not shorten the session at all: the bound, whatever the note holds.
        fake = SimpleNamespace(compress=lambda data: data + b"..", decompress=zlib.decompress)
        monkeypatch.setattr(itsdangerous.url_safe, "zlib", fake)
    response = client.post("/cookies/note", data={"note": LONGEST_NOTE, "csrf_token": token})

    header = set_cookie(response, name)
    name_and_value = header.partition(";")[0]
    # Name and value (ASVS 3.3.5), and even with its attributes (RFC 6265's minimum).
    assert len(name_and_value.encode()) < len(header.encode()) < COOKIE_LIMIT
    session = app.session_interface.get_signing_serializer(app).loads(
        name_and_value.partition("=")[2]
    )
    assert session["note"] == LONGEST_NOTE
    assert session["_fresh"] is True
    assert session["_flashes"] == [
        ("info", f"You are signed in as {'a' * 32}. Sign out first to create another account."),
        ("success", "Signed out of 0 other browsers. This browser stays signed in."),
    ]
    assert {"_user_id", "_id", "csrf_token", "lab_result"} <= session.keys()
    assert name_and_value.partition("=")[2].startswith(".") is compressible
