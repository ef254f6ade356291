"""Shared fixtures: an app on an in-memory database and its test client."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from loginflow import create_app
from loginflow.config import TestingConfig
from loginflow.extensions import db

from . import servers
from .actions import register, sign_out

#: The ``make_app`` fixture's type: builds an app with a settings class and settings changed.
MakeApp = Callable[..., Flask]


def close_database(app: Flask) -> None:
    """Close the app's database connections, which its pool would keep open until collected."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--on-postgresql",
        action="store_true",
        help="run on PostgreSQL and Redis (see tests/servers.py) instead of SQLite in memory",
    )


MISSING_SERVER = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each run leaves out the other's own tests (about SQLite itself, or about PostgreSQL);
    with ``--on-postgresql``, if a server does not answer, every test is skipped for that."""
    other_run = "sqlite_only" if config.getoption("--on-postgresql") else "postgresql_only"
    kept = [item for item in items if not item.get_closest_marker(other_run)]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
    if config.getoption("--on-postgresql") and (problem := servers.missing_server()):
        config.stash[MISSING_SERVER] = problem
        for item in items:
            item.add_marker(pytest.mark.skip(reason=problem))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if problem := config.stash.get(MISSING_SERVER, None):
        terminalreporter.write_line(f"All skipped: {problem}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def run_database() -> Iterator[Engine]:
    """This run's own PostgreSQL database (``--on-postgresql``)."""
    with servers.run_database() as engine:
        yield engine


@pytest.fixture(autouse=True)
def on_postgresql(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """With ``--on-postgresql``, TestingConfig's apps get a schema and Redis keys of their own."""
    if not request.config.getoption("--on-postgresql"):
        yield
        return
    database = request.getfixturevalue("run_database")
    with (
        servers.own_schema(database) as url,
        servers.own_key_prefix() as prefix,
        servers.closing_connections(),
    ):
        monkeypatch.setattr(TestingConfig, "SQLALCHEMY_DATABASE_URI", url)
        monkeypatch.setattr(TestingConfig, "RATELIMIT_STORAGE_URI", servers.REDIS_URL)
        monkeypatch.setattr(TestingConfig, "RATELIMIT_STORAGE_OPTIONS", {"key_prefix": prefix})
        yield


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app(TestingConfig)
    yield app
    close_database(app)


@pytest.fixture
def make_app() -> Iterator[MakeApp]:
    """Builds apps with ``config`` and the given settings changed; closes their databases after.

    ``config`` is TestingConfig unless given; None is the class LOGINFLOW_CONFIG names.
    """
    made: list[Flask] = []

    def build(config: type | None = TestingConfig, /, **settings: Any) -> Flask:
        if settings:
            config = type("TweakedConfig", (config,), settings)
        made.append(create_app(config))
        return made[-1]

    yield build
    for app in made:
        close_database(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def signed_up(client: FlaskClient) -> FlaskClient:
    """A client that registered alice and then signed out, so it starts signed out."""
    assert register(client).status_code == 302
    sign_out(client)
    return client
