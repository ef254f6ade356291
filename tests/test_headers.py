"""Security headers on every response; pages never cached, versioned files cached long."""

import os
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loginflow.config import ProductionConfig

from .actions import csrf_token, register
from .conftest import MakeApp

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
CSP_DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/login", 302),  # signed in: on to the account
        ("GET", "/account", 200),
        ("GET", "/cookies/", 200),
        ("GET", "/no/such/page", 404),
        ("POST", "/logout", 400),  # no CSRF token
        ("GET", "/logout", 405),
        ("GET", "/static/style.css", 200),
    ],
)
def test_every_response_carries_the_security_headers(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    register(client)
    response = client.open(path, method=method)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name
    policy = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert set(CSP_DIRECTIVES) <= set(policy)
    assert not any("unsafe" in d for d in policy)
    response.close()


@pytest.mark.parametrize(
    ("method", "path", "form", "status"),
    [
        ("GET", "/account", None, 200),
        ("GET", "/static/style.css", None, 200),
        ("POST", "/login", {"username": "alice"}, 400),  # no CSRF token: another site has none
        ("POST", "/cookies/note", {"note": "hi", "csrf_token": "?"}, 302),  # as if it had one
        ("OPTIONS", "/account/password", None, 200),  # a preflight before a cross-origin POST
        ("OPTIONS", "/logout", None, 200),
    ],
)
def test_no_response_lets_another_origin_read_it(
    client: FlaskClient, method: str, path: str, form: dict[str, str] | None, status: int
) -> None:
    """No CORS: a script on another site may send, but never read what comes back."""
    register(client)
    headers = {"Origin": "https://evil.example"}
    if method == "OPTIONS":
        headers |= {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
    if form and "csrf_token" in form:
        form = form | {"csrf_token": csrf_token(client)}
    response = client.open(path, method=method, headers=headers, data=form)
    assert response.status_code == status
    assert [name for name, _ in response.headers if name.lower().startswith("access-control")] == []
    response.close()


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/cookies/", "/missing"])
def test_pages_are_never_cached(client: FlaskClient, path: str) -> None:
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_pages_use_no_inline_script_or_style(client: FlaskClient) -> None:
    register(client)
    for path in ("/", "/account", "/cookies/", "/missing"):
        page = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert "<style" not in page, path
        assert " style=" not in page, path
        assert not re.search(r"\son[a-z]+=", page), path  # no onclick= and the like


def test_static_files_are_linked_by_version_and_kept_for_a_year(client: FlaskClient) -> None:
    page = client.get("/").text
    link = re.search(r'href="(/static/style\.css\?v=[0-9a-f]{12})"', page)
    assert link
    versioned = client.get(link.group(1))
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    versioned.close()
    plain = client.get("/static/style.css")
    assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")
    plain.close()


def test_a_versioned_file_revalidated_is_kept_for_a_year_again(client: FlaskClient) -> None:
    link = re.search(r'href="(/static/style\.css\?v=[0-9a-f]{12})"', client.get("/").text)
    first = client.get(link.group(1))
    first.close()
    again = client.get(link.group(1), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    again.close()


def test_a_changed_file_gets_a_new_version_in_its_links(app: Flask, tmp_path: Path) -> None:
    style = tmp_path / "style.css"
    style.write_text("body { color: black }")
    app.static_folder = str(tmp_path)
    client = app.test_client()

    def version() -> str:
        return re.search(r"/static/style\.css\?v=(\w+)", client.get("/").text).group(1)

    before = version()
    style.write_text("body { color: navy }")
    modified = style.stat().st_mtime_ns + 1_000_000_000  # a second later, whatever the clock
    os.utime(style, ns=(modified, modified))
    assert version() != before


def test_a_wrong_version_is_not_kept_for_a_year(client: FlaskClient) -> None:
    response = client.get("/static/style.css?v=000000000000")
    assert "max-age=31536000" not in response.headers.get("Cache-Control", "")
    response.close()


def test_a_missing_static_file_is_a_page_never_cached(client: FlaskClient) -> None:
    response = client.get("/static/nothing-here.css?v=1")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_only_production_sends_hsts(
    client: FlaskClient, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers
    monkeypatch.setenv("FLASK_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", "sqlite://")
    monkeypatch.setenv("FLASK_TRUSTED_HOSTS", '["localhost"]')
    production = make_app(ProductionConfig).test_client()
    response = production.get("/", base_url="https://localhost")
    max_age = int(response.headers["Strict-Transport-Security"].removeprefix("max-age="))
    assert max_age >= 365 * 24 * 3600


@pytest.mark.parametrize(
    ("setting", "sent"),
    [
        # By default not the subdomains: other sites under the domain may not speak HTTPS.
        (None, "max-age=63072000"),
        ("max-age=63072000; includeSubDomains", "max-age=63072000; includeSubDomains"),
    ],
)
def test_production_sends_hsts_for_subdomains_only_when_the_deployer_says_so(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, setting: str | None, sent: str
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", "sqlite://")
    monkeypatch.setenv("FLASK_TRUSTED_HOSTS", '["localhost"]')
    if setting is not None:
        monkeypatch.setenv("FLASK_STRICT_TRANSPORT_SECURITY", setting)
    production = make_app(ProductionConfig).test_client()
    for path in ("/", "/login", "/no/such/page"):
        response = production.get(path, base_url="https://localhost")
        assert response.headers.getlist("Strict-Transport-Security") == [sent], path
