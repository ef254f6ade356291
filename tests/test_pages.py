"""Every page renders, with the labels people and browser tests rely on."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loginflow.forms import SignInForm, entered

from .actions import PASSWORD, change_password, csrf_token, post_from, register, sign_in


def test_home_says_nobody_is_signed_in(client: FlaskClient) -> None:
    page = client.get("/").text
    assert "You are not signed in." in page
    assert ">Sign out</button>" not in page


def test_home_says_who_is_signed_in(client: FlaskClient) -> None:
    register(client, "Alice")
    assert "You are signed in as <strong>Alice</strong>." in client.get("/").text


def test_register_page_has_its_labels(client: FlaskClient) -> None:
    page = client.get("/register").text
    for label in ("Username", "Password", "Confirm password"):
        assert f">{label}</label>" in page
    assert '<button type="submit" class="button">Create account</button>' in page


def test_login_page_has_its_labels(client: FlaskClient) -> None:
    page = client.get("/login").text
    for label in ("Username", "Password", "Remember me"):
        assert f">{label}</label>" in page
    assert 'type="checkbox"' in page
    assert '<button type="submit" class="button">Sign in</button>' in page
    assert "for 14 days, even after the browser closes" in page


def test_account_page_shows_the_sign_in(client: FlaskClient) -> None:
    register(client, "Alice")
    page = client.get("/account").text
    assert "<dd>Alice</dd>" in page
    assert "Yes: you typed your password in this browser session, less than 15 minutes ago." in page
    assert "Off: closing the browser, or 30 minutes without activity, signs you out." in page


def focused(page: str) -> list[str]:
    """The ids of the inputs the page puts the cursor in when it opens."""
    return re.findall(r'<input(?=[^>]*\bautofocus\b)[^>]*\bid="([^"]+)"', page)


@pytest.mark.parametrize(
    ("change", "cursor"),
    [
        ({}, "username"),  # nothing sent yet
        ({"username": "al"}, "username"),
        ({"password": "short", "confirm": "short"}, "password"),
        # A mismatch empties both boxes: the cursor goes to the first of them.
        ({"confirm": "another horse battery staple"}, "password"),
    ],
)
def test_register_puts_the_cursor_where_the_person_must_type(
    client: FlaskClient, change: dict[str, str], cursor: str
) -> None:
    if not change:
        page = client.get("/register").text
    else:
        data = {"username": "alice", "password": PASSWORD, "confirm": PASSWORD} | change
        page = client.post("/register", data=data | {"csrf_token": csrf_token(client)}).text
    assert focused(page) == [cursor]


def test_register_errors_are_summed_up_at_the_top_with_links_to_their_fields(
    client: FlaskClient,
) -> None:
    data = {"username": "al", "password": "short", "confirm": "shorts"}
    page = client.post("/register", data=data | {"csrf_token": csrf_token(client)}).text
    start = page.index('<div class="error-summary" role="alert"')
    summary = page[start : page.index("</div>", start)]
    assert re.findall(r'<a href="#(\w+)">', summary) == ["username", "password", "confirm"]
    assert "the password boxes are empty again" in summary
    assert 'aria-invalid="true"' in page


def test_failed_sign_in_puts_the_cursor_in_the_password_box(signed_up: FlaskClient) -> None:
    page = sign_in(signed_up, password="not the password at all").text
    assert focused(page) == ["password"]
    assert 'value="alice"' in page  # the username is kept
    assert focused(signed_up.get("/login").text) == ["username"]


def test_remember_me_hint_belongs_to_its_checkbox(client: FlaskClient) -> None:
    page = client.get("/login").text
    assert re.search(r'<input[^>]*aria-describedby="remember-hint"[^>]*id="remember"', page)
    assert 'id="remember-hint"' in page


@pytest.mark.parametrize(("path", "current"), [("/cookies/", "Cookie lab"), ("/login", "Sign in")])
def test_the_nav_marks_the_page_you_are_on(client: FlaskClient, path: str, current: str) -> None:
    page = client.get(path).text
    assert re.findall(r'aria-current="page">([^<]+)<', page) == [current]
    assert '<a class="skip-link" href="#main">Skip to content</a>' in page
    assert '<main id="main"' in page


def test_a_field_read_before_its_form_is_validated_says_so(app: Flask) -> None:
    with app.test_request_context(method="POST"):
        form = SignInForm(formdata=None)
        with pytest.raises(ValueError) as error:
            entered(form.password)
    assert str(error.value) == "password holds nothing: validate the form first."


class Elements(HTMLParser):
    """Every element of a page, as (tag, attributes)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


# Each page with a password box: how it is opened, how it is sent back refused, and what a
# password manager must know of each box (fill in the saved password, or offer a new one).
PASSWORD_PAGES = {
    "register": (
        "/register",
        lambda client: register(client, "alice", "short"),
        {"password": "new-password", "confirm": "new-password"},
    ),
    "sign in": (
        "/login",
        lambda client: sign_in(client, "alice", "not the password at all"),
        {"password": "current-password"},
    ),
    "reauth": (
        "/reauth",
        lambda client: post_from(client, "/reauth", "/reauth", password="not the password"),
        {"password": "current-password"},
    ),
    "change password": (
        "/account/password",
        lambda client: change_password(client, current="not the password at all"),
        {
            "current_password": "current-password",
            "new_password": "new-password",
            "confirm": "new-password",
        },
    ),
}
SIGNED_IN_TO_SEE = {"reauth", "change password"}
# What a page's script would listen to, or call, to stop a password being pasted in.
CLIPBOARD = re.compile(r"paste|copy|cut\b|clipboard|preventDefault", re.IGNORECASE)


@pytest.mark.parametrize("refused", [False, True], ids=["opened", "refused"])
@pytest.mark.parametrize("name", PASSWORD_PAGES)
def test_password_boxes_hide_the_password_and_let_managers_and_paste_fill_them(
    app: Flask, client: FlaskClient, name: str, refused: bool
) -> None:
    path, send_refused, expected = PASSWORD_PAGES[name]
    if name in SIGNED_IN_TO_SEE:
        register(client)
    response = send_refused(client) if refused else client.get(path)
    assert response.status_code == (422 if refused else 200)
    elements = Elements(response.text).found
    inputs = [attrs for tag, attrs in elements if tag == "input"]
    boxes = {attrs.get("name"): (attrs.get("type"), attrs.get("autocomplete")) for attrs in inputs}
    assert {field: boxes.get(field) for field in expected} == {
        field: ("password", autocomplete) for field, autocomplete in expected.items()
    }
    hidden = [attrs.get("name") for attrs in inputs if attrs.get("type") == "password"]
    assert sorted(hidden) == sorted(expected)  # no other box hides what is typed
    # Nothing stops a paste: no handler on any element, and no script that could add one.
    assert [(tag, attr) for tag, attrs in elements for attr in attrs if attr.startswith("on")] == []
    scripts = [attrs for tag, attrs in elements if tag == "script"]
    assert all(attrs.get("src") for attrs in scripts)  # none inline (the CSP refuses those too)
    for attrs in scripts:
        source = Path(
            app.static_folder or "", str(attrs["src"]).split("?")[0].removeprefix("/static/")
        )
        assert not CLIPBOARD.search(source.read_text()), source.name
