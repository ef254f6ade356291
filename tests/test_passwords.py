"""Password rules: easy-to-guess passwords are refused; long ones are never hashed."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from loginflow import passwords
from loginflow.extensions import db
from loginflow.models import User

from .actions import PASSWORD, csrf_token, log_in, register


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("alice", "password1234", "This is a very common password."),
        ("alice", "qwertyuiop123", "That password is easy to guess."),
        ("alice", "111111111111", "That password is easy to guess."),
        ("alice", "alice2024alice", "Leave your username out of your password."),
        ("robert", "my name is ROBERT!", "Leave your username out of your password."),
    ],
)
def test_easy_passwords_are_refused_with_a_reason(
    client: FlaskClient, app: Flask, username: str, password: str, message: str
) -> None:
    response = register(client, username, password)
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(select(User)) is None


@pytest.mark.parametrize("password", [PASSWORD, "mauve otter ledger 1987", "Zq8#vL2!pT9@wE4"])
def test_hard_to_guess_passwords_are_accepted(client: FlaskClient, password: str) -> None:
    assert register(client, "alice", password).status_code == 302


def test_strength_is_judged_on_a_bounded_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(passwords, "zxcvbn", lambda pw, inputs: seen.append(pw) or _Strong())
    assert passwords.guessability_problem("x" * 128, "alice") is None
    assert seen == ["x" * passwords.STRENGTH_CHECKED_CHARS]


class _Strong:
    score = 4
    feedback = None


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_oversized_password_is_refused_without_hashing(
    signed_up: FlaskClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    hashed = []
    monkeypatch.setattr(passwords, "check_password_hash", lambda *a: hashed.append(1))
    monkeypatch.setattr(passwords, "generate_password_hash", lambda *a: hashed.append(1))
    long = "x" * 20_000  # twice over, still under the body limit; far over any password
    data = {"username": "bob", "password": long, "confirm": long}
    response = signed_up.post(path, data=data | {"csrf_token": csrf_token(signed_up, path)})
    assert response.status_code == 422
    assert hashed == []


def test_password_of_the_longest_allowed_length_signs_in(client: FlaskClient) -> None:
    longest = "correct horse battery staple " * 4 + "x" * 12  # 128 characters
    assert len(longest) == 128
    assert register(client, "alice", longest).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert log_in(client, "alice", longest).status_code == 302


def test_no_more_password_checks_run_at_once_than_there_are_slots(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def slow_check(*_: object) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(passwords, "check_password_hash", slow_check)

    def sign_in_attempt(_: int) -> bool:
        with app.test_request_context():
            return passwords.verify_password("stored", "guess")

    with ThreadPoolExecutor(max_workers=passwords.MAX_CONCURRENT_HASHES * 4) as pool:
        assert not any(pool.map(sign_in_attempt, range(passwords.MAX_CONCURRENT_HASHES * 8)))
    assert most == passwords.MAX_CONCURRENT_HASHES
