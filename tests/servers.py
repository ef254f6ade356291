"""PostgreSQL and Redis for the unit suite's second run, ``pytest --on-postgresql``.

The run makes a database of its own and drops it at the end, never touching another; each
test gets a schema of its own in it, and a key prefix of its own in Redis, so every app
starts empty, as it does on SQLite in memory. The servers are found where
LOGINFLOW_TEST_DATABASE_URL and LOGINFLOW_TEST_REDIS_URL say (this project's machines run
both on 127.0.0.1); where one does not answer, every test of the run is skipped with one
line saying what to start.
"""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from itertools import count

import redis
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import Pool

DATABASE_URL = os.environ.get(
    "LOGINFLOW_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("LOGINFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START_POSTGRESQL = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no"
CONNECT_TIMEOUT = 3  # seconds: a server that is not there must not hold the run up

_numbers = count()


def missing_server() -> str | None:
    """Which server does not answer, in one line that says what to start; None if both do."""
    where = make_url(DATABASE_URL)
    try:
        engine = create_engine(where, connect_args={"connect_timeout": CONNECT_TIMEOUT})
        with engine.connect():
            pass
        engine.dispose()
    except OperationalError:
        return (
            f"PostgreSQL does not answer at {where.host}:{where.port} "
            f"(LOGINFLOW_TEST_DATABASE_URL): start it, e.g. {START_POSTGRESQL}"
        )
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=CONNECT_TIMEOUT).ping()
    except redis.ConnectionError:
        return (
            f"Redis does not answer at {REDIS_URL} (LOGINFLOW_TEST_REDIS_URL): "
            f"start it, e.g. {START_REDIS}"
        )
    return None


@contextmanager
def run_database() -> Iterator[Engine]:
    """A database of this run's own, created now and dropped at the end, even if in use."""
    name = f"loginflow_test_{secrets.token_hex(4)}"
    server = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(DATABASE_URL).set(database=name), isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


@contextmanager
def own_schema(database: Engine) -> Iterator[str]:
    """A new schema in ``database``; the URL whose connections make it their default."""
    schema = f"test_{next(_numbers)}"
    with database.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = database.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with database.connect() as connection:
            # An app that still holds a connection cannot block this for long; what is left
            # goes with the run's database at the end.
            connection.execute(text("SET lock_timeout = '2s'"))
            with suppress(OperationalError):
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@contextmanager
def closing_connections() -> Iterator[None]:
    """Close, afterwards, every connection opened meanwhile, whichever app's pool holds it.

    Apps that tests build and drop keep their pooled connections until collected, and a
    PostgreSQL connection collected while open is a ResourceWarning (an error here).
    """
    opened: list[DBAPIConnection] = []

    def record(connection: DBAPIConnection, _: object) -> None:
        opened.append(connection)

    event.listen(Pool, "connect", record)
    try:
        yield
    finally:
        event.remove(Pool, "connect", record)
        for connection in opened:
            connection.close()


@contextmanager
def own_key_prefix() -> Iterator[str]:
    """A Redis key prefix for one test's throttle counters; its keys are deleted after it."""
    prefix = f"loginflow-test-{secrets.token_hex(4)}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
