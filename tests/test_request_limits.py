"""What a request may carry: urlencoded forms only, and never more than the limit."""

import io
import json

import pytest
from flask.testing import FlaskClient

from .actions import PASSWORD, csrf_token

FORM_TYPE = "application/x-www-form-urlencoded"


def test_a_json_body_is_refused_before_any_field_is_read(signed_up: FlaskClient) -> None:
    token = csrf_token(signed_up, "/login")
    body = {"username": "alice", "password": PASSWORD}
    response = signed_up.post("/login", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 415
    assert "This address accepts only forms sent from this site" in response.text
    assert signed_up.get("/account").status_code == 302


@pytest.mark.parametrize("body", [{"note": 5}, {"note": ["a"]}, [["x"]], "[" * 30_000])
def test_json_of_any_shape_gets_the_415_page(client: FlaskClient, body: object) -> None:
    token = csrf_token(client, "/cookies/")
    response = client.post(
        "/cookies/note",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 415


def test_a_file_in_a_form_field_gets_the_415_page(client: FlaskClient) -> None:
    data = {"note": (io.BytesIO(b"a file"), "note.txt"), "csrf_token": csrf_token(client)}
    response = client.post("/cookies/note", data=data, content_type="multipart/form-data")
    assert response.status_code == 415


def _unannounced(client: FlaskClient, size: int, token: str) -> int:
    """POST a body of ``size`` bytes with no Content-Length, as a chunked upload arrives."""
    head = f"csrf_token={token}&note=hello&padding=".encode()
    body = head + b"x" * (size - len(head))
    return client.post(
        "/cookies/note",
        input_stream=io.BytesIO(body),
        content_type=FORM_TYPE,
        # The test client computes a Content-Length from the stream; a chunked request has
        # none, and a server that de-chunks it says so with wsgi.input_terminated.
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    ).status_code


def test_a_body_without_a_length_is_refused_past_the_limit(client: FlaskClient) -> None:
    token = csrf_token(client, "/cookies/")
    assert _unannounced(client, 1024, token) == 302  # read whole, the note saved
    assert _unannounced(client, 100 * 1024, token) == 413  # not cut short and read


def test_a_body_without_a_length_that_fills_the_limit_is_refused(client: FlaskClient) -> None:
    """Werkzeug stops reading at the limit without saying whether more was sent."""
    token = csrf_token(client, "/cookies/")
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    assert _unannounced(client, limit - 1, token) == 302
    assert _unannounced(client, limit, token) == 413
