"""Shared fixtures: an app on an in-memory database and its test client."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loginflow import create_app
from loginflow.config import TestingConfig
from loginflow.extensions import db

from .actions import register, sign_out

#: The ``make_app`` fixture's type: builds an app with TestingConfig and settings changed.
MakeApp = Callable[..., Flask]


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app(TestingConfig)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """Builds apps with TestingConfig and the given settings changed; cleans up after."""
    made: list[Flask] = []

    def build(**settings: Any) -> Flask:
        config = type("TweakedTestingConfig", (TestingConfig,), settings)
        made.append(create_app(config))
        return made[-1]

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def signed_up(client: FlaskClient) -> FlaskClient:
    """A client that registered alice and then signed out, so it starts signed out."""
    assert register(client).status_code == 302
    sign_out(client)
    return client
