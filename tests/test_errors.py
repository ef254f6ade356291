"""Every error is a page of ours with the right status: never a traceback."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import TestingConfig
from loginflow import create_app

from .actions import PASSWORD, register


def test_sign_in_without_csrf_token_is_refused_and_signs_nobody_in(signed_up: FlaskClient) -> None:
    data = {"username": "alice", "password": PASSWORD}
    response = signed_up.post("/login?next=/account", data=data)
    assert response.status_code == 400
    assert "This form expired, please try again." in response.text
    assert signed_up.get("/account").status_code == 302


def test_sign_out_without_csrf_token_is_refused_and_keeps_you_signed_in(
    client: FlaskClient,
) -> None:
    register(client)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "This form expired, please try again." in response.text
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("referrer", "link"),
    [
        ("http://localhost/cookies/", 'href="/cookies/"'),
        ("http://localhost/login?next=/account", 'href="/login?next=/account"'),
        ("http://evil.example/login", None),
        (None, None),
    ],
)
def test_expired_form_offers_the_page_it_came_from(
    client: FlaskClient, referrer: str | None, link: str | None
) -> None:
    headers = {"Referer": referrer} if referrer else {}
    page = client.post("/cookies/theme", data={"theme": "dark"}, headers=headers).text
    if link:
        assert link in page
    else:
        assert "Try again" not in page
    assert 'href="/"' in page  # home, always


def test_wrong_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is no page at this address." in response.text
    assert 'href="/"' in response.text


@pytest.fixture
def failing_app() -> Flask:
    app = create_app(TestingConfig)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as a deployed site, not a test harness

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("internal detail that must not leak")

    return app


def test_unexpected_error_is_a_friendly_500_without_details(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side." in response.text
    assert "internal detail" not in response.text
    assert "Traceback" not in response.text
