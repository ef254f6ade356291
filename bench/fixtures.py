"""Accounts and remember cookies for the bench, made inside loginflow with its own code.

Run with the bench server's environment (its settings and database), as
``python -m bench.fixtures users PREFIX COUNT [PREFIX COUNT ...]`` or
``... remember PREFIX COUNT``; the second prints one remember cookie value a line.

Accounts are inserted with one password hash made once: making thousands of accounts
is not what is measured. Each remember cookie comes from ``loginflow.auth.sign_in`` with
Remember me, the primitive the sign-in form calls once the password is checked, called
here through a request to a route this process alone adds: the same row and cookie as a
sign-in, without paying a password hash for each of the thousands a restore round uses.
"""

import sys
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.test import TestResponse

from loginflow import create_app
from loginflow.auth import sign_in
from loginflow.extensions import db
from loginflow.models import User
from loginflow.passwords import hash_password

from .client import PASSWORD, USER_AGENT, cookie_value
from .client import Answer as HttpAnswer

HOST = "http://127.0.0.1"  # one of the bench server's TRUSTED_HOSTS


def create_users(app: Flask, prefix: str, count: int) -> None:
    """Accounts ``prefix0`` ... with the bench password, hashed the production way."""
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        db.session.add_all(
            User(username=f"{prefix}{i}", password_hash=password_hash) for i in range(count)
        )
        db.session.commit()


def remember_cookies(app: Flask, prefix: str, count: int) -> list[str]:
    """One account each and one sign-in with Remember me each: the cookies' values."""
    create_users(app, prefix, count)

    def remembered_sign_in(username: str) -> str:
        user = db.session.scalar(User.named(username))
        if user is None:
            raise LookupError(username)
        sign_in(user, password_version=user.password_version, remember_me=True)
        return ""

    app.add_url_rule("/bench/remembered-sign-in/<username>", view_func=remembered_sign_in)
    name = app.config["REMEMBER_ME_COOKIE_NAME"]
    values = []
    for i in range(count):
        client = app.test_client()  # each a new browser, signed in nowhere
        response = client.get(
            f"/bench/remembered-sign-in/{prefix}{i}",
            base_url=HOST,
            headers={"User-Agent": USER_AGENT},
        )
        value = cookie_value(_answer(response), name)
        if response.status_code != 200 or value is None:
            raise RuntimeError(f"No remember cookie for {prefix}{i} ({response.status_code}).")
        values.append(value)
    return values


def _answer(response: TestResponse) -> HttpAnswer:
    return HttpAnswer(response.status_code, list(response.headers.items()), "")


def _unsynced_writes(app: Flask) -> None:
    """This process's commits skip SQLite's fsync: test data need not survive a power cut,
    and thousands of synced commits would take longer than the rounds they feed. The
    server's own connections keep SQLite's default."""

    def unsynced(connection: Any, _: Any) -> None:
        connection.execute("PRAGMA synchronous=OFF")

    with app.app_context():
        event.listen(db.engine, "connect", unsynced)
        db.engine.dispose()  # the connections made before the listener


def main(argv: list[str]) -> None:
    command, *pairs = argv
    app = create_app()
    _unsynced_writes(app)
    if command == "users":
        for prefix, count in zip(pairs[::2], pairs[1::2], strict=True):
            create_users(app, prefix, int(count))
    elif command == "remember":
        cookies = remember_cookies(app, pairs[0], int(pairs[1]))
        sys.stdout.write("".join(f"{value}\n" for value in cookies))
    else:
        raise SystemExit(f"Unknown command {command!r}: users or remember.")


if __name__ == "__main__":
    main(sys.argv[1:])
