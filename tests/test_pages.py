"""Every page renders, with the labels people and browser tests rely on."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loginflow.forms import SignInForm, entered

from .actions import PASSWORD, csrf_token, register, sign_in


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
