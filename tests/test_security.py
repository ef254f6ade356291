"""Safe redirects: after sign-in, only to a path on this site."""

import pytest
from flask.testing import FlaskClient

from loginflow.security import safe_next

from .actions import sign_in

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "https:evil.example",
    "https:/evil.example",
    "HTTP://evil.example/account",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://127.0.0.1.evil.example",
    "http://127.0.0.1@evil.example/",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\x7f/evil.example",  # DEL, which browsers drop like the other controls
    "%2F%2Fevil.example",
    "/%2Fevil.example",
    "/%5Cevil.example",
    "evil.example",
    "account",
    "",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_next_is_refused(target: str) -> None:
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/account", "/account?tab=1&x=%20y", "/a/b#part"])
def test_same_origin_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize("target", HOSTILE[:16])
def test_sign_in_with_hostile_next_lands_on_the_account(
    signed_up: FlaskClient, target: str
) -> None:
    response = sign_in(signed_up, next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_login_form_keeps_only_a_safe_next(client: FlaskClient) -> None:
    assert 'action="/login?next=/account"' in client.get("/login?next=/account").text
    assert "evil" not in client.get("/login?next=//evil.example").text
