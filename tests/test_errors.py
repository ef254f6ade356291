"""Every error is a page of ours with the right status: never a traceback."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loginflow import passwords
from loginflow.config import TestingConfig
from loginflow.extensions import db
from loginflow.models import User

from .actions import PASSWORD, csrf_token, register
from .conftest import MakeApp


def test_sign_in_without_csrf_token_is_refused_and_signs_nobody_in(signed_up: FlaskClient) -> None:
    data = {"username": "alice", "password": PASSWORD}
    response = signed_up.post("/login?next=/account", data=data)
    assert response.status_code == 400
    assert "<p>This form expired, please try again.</p>" in response.text
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


def test_wrong_csrf_token_is_refused_and_changes_nothing(client: FlaskClient) -> None:
    register(client)
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert "This form expired, please try again." in response.text
    assert client.get("/account").status_code == 200  # still signed in


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert '<p class="code">Error 404</p>' in response.text
    assert "There is no page at this address." in response.text
    assert 'href="/"' in response.text


@pytest.fixture
def failing_app(make_app: MakeApp) -> Flask:
    app = make_app(TestingConfig)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as a deployed site, not a test harness

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("internal detail that must not leak")

    @app.get("/boom-after-a-failed-write")
    def boom_after_a_failed_write() -> str:
        db.session.commit()  # a first write: every row loaded so far must be read again
        db.session.add(User(username="alice", password_hash="x"))
        db.session.flush()  # the name is taken: the transaction is unusable from here
        return "never shown"

    return app


def test_unexpected_error_is_a_friendly_500_without_details(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side." in response.text
    assert "internal detail" not in response.text
    assert "Traceback" not in response.text


def test_a_500_after_a_failed_write_still_shows_who_is_signed_in(failing_app: Flask) -> None:
    client = failing_app.test_client()
    register(client)
    response = client.get("/boom-after-a-failed-write")
    assert response.status_code == 500
    assert "Something went wrong on our side." in response.text
    assert "Signed in as <strong>alice</strong>" in response.text


def test_an_error_without_words_of_our_own_is_headed_with_https_phrase(client: FlaskClient) -> None:
    response = client.get("/static/style.css", headers={"Range": "bytes=99999999-"})
    assert response.status_code == 416
    assert "<h1>Requested Range Not Satisfiable</h1>" in response.text
    assert "<p>The server cannot provide the requested range.</p>" in response.text
    assert 'href="/"' in response.text


def test_try_again_link_refuses_a_referrer_path_naming_another_host(client: FlaskClient) -> None:
    # urlsplit reads the host as localhost and the path as //evil.example/x, which a
    # browser would follow to evil.example: safe_next must refuse it.
    headers = {"Referer": "http://localhost//evil.example/x"}
    page = client.post("/cookies/theme", data={"theme": "dark"}, headers=headers).text
    assert "Try again" not in page
    assert "evil.example" not in page


def test_oversized_body_gets_the_413_page_before_any_hashing(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed = []
    monkeypatch.setattr(passwords, "check_password_hash", lambda *a: hashed.append(a) or False)
    body = {"username": "alice", "password": "x" * (100 * 1024), "csrf_token": csrf_token(client)}
    response = client.post("/login", data=body)
    assert response.status_code == 413
    assert "That was more than this site accepts." in response.text
    assert hashed == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_untrusted_host_gets_the_friendly_400_page(make_app: MakeApp, method: str) -> None:
    client = make_app(TRUSTED_HOSTS=["loginflow.example"]).test_client()
    response = client.open("/login", method=method, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "The request could not be understood." in response.text
    assert "evil.example" not in response.text
    trusted = client.get("/login", headers={"Host": "loginflow.example"})
    assert trusted.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "heading"),
    [
        ("GET", "/no/such/page", "Page not found"),
        ("GET", "/logout", "Not something this page does"),
        ("POST", "/login", "This form expired"),
    ],
)
def test_error_pages_are_headed_in_plain_words(
    client: FlaskClient, method: str, path: str, heading: str
) -> None:
    page = client.open(path, method=method).text
    assert f"<h1>{heading}</h1>" in page
    assert f"<title>{heading} · loginflow</title>" in page
    for phrase in ("Bad Request", "Method Not Allowed", "Not Found"):
        assert phrase not in page
