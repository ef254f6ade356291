"""What a person does through the forms, and how to read what the browser got back.

The browser tests (e2e/flows.py) read cookies and forms with the same helpers, from here.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from loginflow.extensions import db

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@contextmanager
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app runs meanwhile, each on one line."""
    statements: list[str] = []

    def record(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def csrf_token(client: FlaskClient, path: str = "/cookies/") -> str:
    """The CSRF token a browser would find in the form at ``path``."""
    return CSRF_FIELD.search(client.get(path).text).group(1)


def register(
    client: FlaskClient, username: str = "alice", password: str = PASSWORD
) -> TestResponse:
    data = {"username": username, "password": password, "confirm": password}
    return client.post("/register", data=data | {"csrf_token": csrf_token(client)})


def sign_in(
    client: FlaskClient,
    username: str = "alice",
    password: str = PASSWORD,
    *,
    remember: bool = False,
    next_path: str | None = None,
) -> TestResponse:
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "y"
    return client.post("/login", query_string={"next": next_path} if next_path else None, data=data)


def sign_out(client: FlaskClient) -> TestResponse:
    """Press the header's Sign out button on the home page."""
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def set_cookie(response: TestResponse, name: str) -> str | None:
    """The literal Set-Cookie header for ``name``, as the browser receives it."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(headers) <= 1, headers
    return headers[0] if headers else None


def attributes(header: str) -> dict[str, str]:
    """The attributes of a Set-Cookie header, keyed by lower-case name ("max-age": "60")."""
    _, *parts = header.split("; ")
    return {k.lower(): v for k, _, v in (part.partition("=") for part in parts)}


NEW_PASSWORD = "violet kettle drumming seaweed"
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_ON_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def browser(app: Flask, user_agent: str = CHROME_ON_LINUX) -> FlaskClient:
    """A new test client that says it is the browser named by ``user_agent``."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def go_stale(client: FlaskClient, app: Flask) -> None:
    """Age this browser's fresh sign-in past FRESH_FOR, as time would."""
    with client.session_transaction() as session:
        session["_fresh_at"] -= int(app.config["FRESH_FOR"].total_seconds())


def post_from(client: FlaskClient, path: str, page: str = "/account", **data: str) -> TestResponse:
    """Press a button on ``page`` that posts to ``path``, as a browser sends it (Referer too)."""
    fields = data | {"csrf_token": csrf_token(client, page)}
    return client.post(path, data=fields, headers={"Referer": f"http://localhost{page}"})


def change_password(
    client: FlaskClient,
    current: str = PASSWORD,
    new: str = NEW_PASSWORD,
    confirm: str | None = None,
) -> TestResponse:
    fields = {"current_password": current, "new_password": new, "confirm": confirm or new}
    return post_from(client, "/account/password", "/account/password", **fields)


def flashes(page: str) -> list[str]:
    """The messages shown at the top of ``page``."""
    return re.findall(r'<p class="flash flash-\w+" role="status">([^<]*)</p>', page)
