"""What each of loginflow's choices costs a signed-in request, timed in this process.

    python -m bench.costs        (make bench runs it and keeps the figures in its JSON)

wrk's rounds give the whole price of a page; these give its parts, in microseconds: the
SignIn lookup that makes sessions revocable, beside the plain ``db.session.get`` of
Flask-Login's docs; the CSRF token the page's forms carry; the security headers. Each is
the fastest of many runs of a few hundred calls, the parts' runs taken in turn: the
fastest run is the one least disturbed by the rest of the machine, and taking turns
spreads the disturbance over all the parts alike. Rotation is a write, so it is measured
where writes happen: as a restore's time over a signed-in page's, in the rounds.
"""

import json
import secrets
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

from flask import Flask, g
from flask_wtf.csrf import generate_csrf

from loginflow import create_app
from loginflow.auth import load_user
from loginflow.config import ProductionConfig
from loginflow.extensions import db
from loginflow.headers import add_security_headers
from loginflow.models import SignIn, User

CALLS, RUNS = 300, 25


def timed_us(calls: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Each call's microseconds: the fastest of RUNS runs of CALLS calls, taken in turn."""
    fastest = dict.fromkeys(calls, float("inf"))
    for _ in range(RUNS):
        for name, call in calls.items():
            fastest[name] = min(fastest[name], timeit.timeit(call, number=CALLS))
    return {name: seconds / CALLS * 1e6 for name, seconds in fastest.items()}


def costs(app: Flask) -> dict[str, float]:
    with app.app_context():
        user = User(username="reader", password_hash="never checked here")  # noqa: S106
        row = SignIn(user=user, password_version=1, **SignIn.new_session("password"))
        db.session.add(row)
        db.session.commit()
        user_id, token = user.id, row.session_token

    with app.test_request_context("/account", base_url="http://127.0.0.1"):

        def signed_in_row() -> object:
            db.session.remove()  # each request begins with an empty session
            return load_user(token)

        def plain_user() -> object:
            db.session.remove()
            return db.session.get(User, user_id)

        def csrf_token() -> object:
            g.pop("csrf_token", None)  # Flask-WTF signs it once a request, then reuses it
            return generate_csrf()

        response = app.response_class("page")
        return timed_us(
            {
                "sign_in_lookup_us": signed_in_row,
                "user_get_us": plain_user,
                "csrf_token_us": csrf_token,
                "headers_us": lambda: add_security_headers(response),
            }
        )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="loginflow-costs-") as folder:
        config = type(
            "CostsConfig",
            (ProductionConfig,),
            {
                "SECRET_KEY": secrets.token_hex(32),
                "TRUSTED_HOSTS": ["127.0.0.1"],
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'costs.sqlite'}",
            },
        )
        app = create_app(config)
        found = costs(app)
        with app.app_context():
            db.engine.dispose()
    json.dump(found, sys.stdout)


if __name__ == "__main__":
    main()
