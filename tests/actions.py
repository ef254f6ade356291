"""What a person does through the forms, and how to read what the browser got back."""

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct horse battery staple"


def csrf_token(client: FlaskClient, path: str = "/register") -> str:
    """The CSRF token a browser would find in the form at ``path``."""
    page = client.get(path).text
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def register(
    client: FlaskClient, username: str = "alice", password: str = PASSWORD
) -> TestResponse:
    data = {"username": username, "password": password, "confirm": password}
    return client.post("/register", data=data | {"csrf_token": csrf_token(client)})


def log_in(
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


def log_out(client: FlaskClient) -> TestResponse:
    return client.post("/logout", data={"csrf_token": csrf_token(client)})


def set_cookie(response: TestResponse, name: str) -> str | None:
    """The literal Set-Cookie header for ``name``, as the browser receives it."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(headers) <= 1, headers
    return headers[0] if headers else None


def attributes(header: str) -> dict[str, str]:
    """The attributes of a Set-Cookie header, keyed by lower-case name ("max-age": "60")."""
    _, *parts = header.split("; ")
    return {k.lower(): v for k, _, v in (part.partition("=") for part in parts)}
