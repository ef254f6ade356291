"""The security log: one key=value line per event, and never a secret."""

import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from loginflow import security_log
from loginflow.extensions import db
from loginflow.models import SignIn

from .actions import PASSWORD, csrf_token, register, sign_in, sign_out
from .conftest import MakeApp

LINE = re.compile(r"^event=([a-z_]+) user=(\S+) ip=(\S+)$")


def security_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    """Each security log line as (event, user, ip); every line must have that shape."""
    lines = [r.getMessage() for r in caplog.records if r.name == "loginflow.security"]
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    return [m.groups() for m in parsed if m]


def test_each_security_step_writes_one_line(
    client: FlaskClient, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    register(client)  # signs in
    sign_out(client)
    sign_in(client, "alice", "wrong password")
    sign_in(client, "nobody", "wrong password")
    sign_in(client, remember=True)
    client.delete_cookie("session")
    stolen_copy = client.get_cookie("remember").value
    client.get("/")  # restore, which rotates the cookie
    client.set_cookie("remember", stolen_copy)
    client.delete_cookie("session")
    with app.app_context():
        # Past the grace period, the replaced validator is a stolen copy.
        row = db.session.scalar(select(SignIn).where(SignIn.revoked_at.is_(None)))
        row.remember_rotated_at = row.remember_rotated_at.replace(year=2000)
        db.session.commit()
    client.get("/")
    assert security_lines(caplog) == [
        ("sign_in", "alice", "127.0.0.1"),
        ("sign_out", "alice", "127.0.0.1"),
        ("sign_in_failed", "alice", "127.0.0.1"),
        ("sign_in_failed", "-", "127.0.0.1"),  # a typed name matching no account is not kept
        ("sign_in", "alice", "127.0.0.1"),
        ("restore", "alice", "127.0.0.1"),
        ("remember_theft", "alice", "127.0.0.1"),
    ]


def test_no_log_line_holds_a_password_token_or_cookie(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    register(client)
    sign_out(client)
    typo = "correct horse battery stapl"
    sign_in(client, typo, PASSWORD)  # the password typed into the username box
    response = sign_in(client, remember=True)
    assert response.status_code == 302
    remember = client.get_cookie("remember").value
    session = client.get_cookie("session").value
    token = csrf_token(client, "/cookies/")
    client.delete_cookie("session")
    client.get("/account")  # restore
    secrets = [PASSWORD, typo, remember, remember.split(":")[1], session, token]
    secrets.append(client.get_cookie("remember").value)  # the rotated one
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "event=restore" in logged
    for secret in secrets:
        assert secret not in logged


def test_thefts_and_throttling_are_warnings_and_other_events_information(
    client: FlaskClient, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    register(client)
    sign_in(client, remember=True)
    forger = app.test_client()
    forger.set_cookie("remember", client.get_cookie("remember").value.split(":")[0] + ":forged")
    forger.get("/")
    for _ in range(6):
        sign_in(forger, "alice", "wrong password")  # the sixth is throttled
    levels = {r.getMessage().split()[0]: r.levelname for r in caplog.records}
    assert levels == {
        "event=sign_in": "INFO",
        "event=sign_in_failed": "INFO",
        "event=throttled": "WARNING",
        "event=remember_theft": "WARNING",
    }


@pytest.fixture
def security_log_without_a_level() -> Iterator[None]:
    """As a server starts the site: nothing has given the security log a level."""
    level = security_log.logger.level
    security_log.logger.setLevel(logging.NOTSET)
    yield
    security_log.logger.setLevel(level)


@pytest.mark.usefixtures("security_log_without_a_level")
def test_the_security_log_keeps_information_lines_without_being_told_to(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    register(make_app().test_client())
    assert security_lines(caplog) == [("sign_in", "alice", "127.0.0.1")]
