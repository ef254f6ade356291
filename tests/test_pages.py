"""Every page renders, with the labels people and browser tests rely on."""

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from loginflow.wording import duration

from .actions import register


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


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(days=14), "14 days"),
        (timedelta(days=365), "1 year"),
        (timedelta(seconds=120), "2 minutes"),
        (timedelta(seconds=90), "90 seconds"),
        (timedelta(seconds=1), "1 second"),
    ],
)
def test_durations_read_as_a_person_says_them(span: timedelta, said: str) -> None:
    assert duration(span) == said
