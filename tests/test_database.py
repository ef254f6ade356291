"""The database's schema through migrations, and how SQLite writes."""

import hashlib
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from loginflow import create_app
from loginflow.config import TestingConfig
from loginflow.database import MIGRATIONS
from loginflow.extensions import db
from loginflow.models import SignIn, User, utcnow

from .actions import PASSWORD, register, set_cookie, sign_in
from .conftest import MakeApp

FULL = 2  # PRAGMA synchronous: a commit is on disk before it returns
LATEST = "0004"

# What loginflow 0.1.0, before migrations, made with db.create_all() on SQLite.
SCHEMA_0_1_0 = """
CREATE TABLE users (
    id INTEGER NOT NULL, username VARCHAR(32) NOT NULL, password_hash VARCHAR(256) NOT NULL,
    password_version INTEGER NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_users_username_lower ON users (lower(username));
CREATE TABLE sign_ins (
    id INTEGER NOT NULL, user_id INTEGER NOT NULL, created_at DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL, user_agent VARCHAR(512) NOT NULL,
    session_token VARCHAR(32) NOT NULL, session_began_by VARCHAR(16) NOT NULL,
    session_began_at DATETIME NOT NULL, password_version INTEGER NOT NULL, revoked_at DATETIME,
    remember_selector VARCHAR(32), remember_validator_hash VARCHAR(64),
    remember_expires_at DATETIME, remember_previous_validator_hash VARCHAR(64),
    remember_rotated_at DATETIME, PRIMARY KEY (id),
    FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
    UNIQUE (session_token), UNIQUE (remember_selector)
);
CREATE INDEX ix_sign_ins_user_id ON sign_ins (user_id);
"""
# A remember cookie of a sign-in that 0.1.0 stored, still good for a year.
REMEMBER_0_1_0 = "selector0of0010x:" + "v" * 43  # as issued: 16 and 43 characters


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A database URL that several apps of one test share: this test's own PostgreSQL
    schema with --on-postgresql, else an SQLite file."""
    configured = TestingConfig.SQLALCHEMY_DATABASE_URI
    return configured if configured != "sqlite://" else f"sqlite:///{tmp_path / 'site.sqlite'}"


def database_app(make_app: MakeApp, database: str) -> Flask:
    app = make_app(SQLALCHEMY_DATABASE_URI=database)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as a deployed site
    return app


def flask_db(app: Flask, *args: str) -> str:
    """Run ``flask db ARGS`` against ``app``, as a person would; its output."""
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output
    return result.output


def revision(app: Flask) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_a_new_database_is_migrated_to_the_latest_revision_at_start(app: Flask) -> None:
    assert revision(app) == LATEST
    with app.app_context():
        db.session.add(User(username="Alice", password_hash="x"))
        db.session.commit()
        db.session.add(User(username="alice", password_hash="x"))
        with pytest.raises(IntegrityError):  # the migration made the lower(username) index
            db.session.commit()


# Names and passwords tried first against a new site, from vendors' defaults.
DEFAULT_CREDENTIALS = [
    ("admin", "admin"),
    ("admin", "password"),
    ("administrator", "administrator"),
    ("root", "root"),
    ("test", "test"),
    ("loginflow", "loginflow"),
]


def test_a_new_database_holds_no_account_to_sign_in_with(make_app: MakeApp, database: str) -> None:
    """No default account: nobody can sign in until someone registers (ASVS 6.3.2)."""
    app = database_app(make_app, database)
    assert revision(app) == LATEST
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0
    client = app.test_client()
    for username, password in DEFAULT_CREDENTIALS:
        response = sign_in(client, username, password)
        assert response.status_code == 422, username
        assert "Invalid username or password." in response.text


def delete_account(app: Flask, username: str) -> None:
    """What an operator does, there being no page for it: delete the users row with SQL."""
    with app.app_context():
        db.session.execute(text("DELETE FROM users WHERE username = :name"), {"name": username})
        db.session.commit()


def test_a_deleted_accounts_cookies_sign_nobody_in_and_break_no_page(
    app: Flask, client: FlaskClient
) -> None:
    register(client)  # signed in, a session cookie
    remembered = app.test_client()
    sign_in(remembered, remember=True)
    delete_account(app, "alice")
    with app.app_context():
        # ON DELETE CASCADE: the account's sign-ins, and what they kept, went with it.
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0
    for browser in (client, remembered):
        account = browser.get("/account")
        assert (account.status_code, account.location) == (302, "/login?next=/account")
        home = browser.get("/")
        assert home.status_code == 200
        assert "You are not signed in." in home.text
    assert remembered.get_cookie("remember") is None  # deleted, as a cookie of no sign-in


def test_a_deleted_accounts_cookies_never_open_the_account_made_after_it(
    app: Flask, client: FlaskClient
) -> None:
    """SQLite hands the newest row's number out again once it is deleted; a sign-in left
    pointing at that number would open whichever account gets it next."""
    register(client, "mallory")
    remembered = app.test_client()
    sign_in(remembered, "mallory", remember=True)
    delete_account(app, "mallory")
    register(app.test_client(), "victim")
    for browser in (client, remembered):
        account = browser.get("/account")
        assert (account.status_code, account.location) == (302, "/login?next=/account")
        assert "You are not signed in." in browser.get("/").text


# A later migration that changes the users table, in batch mode as every new one is: on
# SQLite, it copies the table to a new one, drops the old and renames the new.
COPY_USERS = """
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{LATEST}"


def upgrade() -> None:
    # SQLite cannot reflect the index on lower(username), so a copy would lose it: made anew.
    op.drop_index("ix_users_username_lower", table_name="users")
    with op.batch_alter_table("users", recreate="always") as batch:
        batch.add_column(sa.Column("display_name", sa.String(32)))
    op.create_index("ix_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
"""


@pytest.mark.sqlite_only
def test_upgrading_deletes_the_sign_ins_an_account_deleted_earlier_left_behind(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """Before SQLite enforced foreign keys, deleting an account left its sign-ins behind."""
    database_file = tmp_path / "site.sqlite"
    app = database_app(make_app, f"sqlite:///{database_file}")
    flask_db(app, "downgrade", "0001")
    mallory, remembered = app.test_client(), app.test_client()
    register(mallory, "mallory")
    sign_in(remembered, "mallory", remember=True)
    with closing(sqlite3.connect(database_file)) as unenforced:  # foreign keys off, as before
        unenforced.execute("DELETE FROM users WHERE username = 'mallory'")
        unenforced.commit()
    flask_db(app, "upgrade")
    register(app.test_client(), "victim")  # given mallory's number
    for browser in (mallory, remembered):
        account = browser.get("/account")
        assert (account.status_code, account.location) == (302, "/login?next=/account")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1  # the victim's


@pytest.mark.sqlite_only
def test_upgrading_deletes_the_sign_ins_of_a_deleted_account_whose_number_is_taken_again(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """Deleted before SQLite enforced foreign keys, and its number given to an account made
    before the upgrade: its sign-ins then point at an account, made after them."""
    database_file = tmp_path / "site.sqlite"
    app = database_app(make_app, f"sqlite:///{database_file}")
    mallory, remembered = app.test_client(), app.test_client()
    register(mallory, "mallory")
    sign_in(remembered, "mallory", remember=True)
    flask_db(app, "downgrade", "0001")
    with closing(sqlite3.connect(database_file)) as unenforced:  # foreign keys off, as before
        unenforced.execute("DELETE FROM users WHERE username = 'mallory'")
        unenforced.commit()
    with app.app_context():  # signing up, as the version before did: mallory's number
        db.session.add(User(username="victim", password_hash=generate_password_hash(PASSWORD)))
        db.session.commit()
    flask_db(app, "upgrade")
    for browser in (mallory, remembered):
        account = browser.get("/account")
        assert (account.status_code, account.location) == (302, "/login?next=/account")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0


@pytest.mark.sqlite_only
def test_an_account_deleted_where_foreign_keys_are_off_opens_no_account_made_after_it(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """The sqlite3 shell, where an operator deletes an account, enforces no foreign keys
    unless told: the account's sign-ins stay, and must never open the next account made."""
    database_file = tmp_path / "site.sqlite"
    app = database_app(make_app, f"sqlite:///{database_file}")
    mallory, remembered = app.test_client(), app.test_client()
    register(mallory, "mallory")
    sign_in(remembered, "mallory", remember=True)
    with closing(sqlite3.connect(database_file)) as shell:  # foreign keys off: its default
        shell.execute("DELETE FROM users WHERE username = 'mallory'")
        shell.commit()
    victim = app.test_client()
    register(victim, "victim")
    for browser in (mallory, remembered):
        account = browser.get("/account")
        assert (account.status_code, account.location) == (302, "/login?next=/account")
    assert "Signed in as <strong>victim</strong>" in victim.get("/account").text


@pytest.mark.sqlite_only
def test_a_migration_that_copies_the_users_table_keeps_every_sign_in(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """With foreign keys on, dropping the old users table would delete every sign-in."""
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "9999_copy_users.py").write_text(COPY_USERS.format(LATEST=LATEST))
    app = database_app(make_app, f"sqlite:///{tmp_path / 'site.sqlite'}")
    client = app.test_client()
    register(client)
    flask_db(app, "upgrade", "--directory", str(migrations))
    assert revision(app) == "9999"
    assert client.get("/account").status_code == 200  # still signed in
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1
        # And every connection afterwards enforces them again.
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []


INSTANCES = 3
_all_ready: Any = None  # in each instance's process: the barrier they all start from


def _get_ready(barrier: Any) -> None:
    global _all_ready
    _all_ready = barrier


def start_instance(database: str) -> tuple[str | None, str | None]:
    """In a process of its own, as an instance is: start the site; its revision and problem."""
    config = type("InstanceConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database})
    _all_ready.wait()  # every instance imported and ready: they start at the same moment
    app = create_app(config)
    try:
        return revision(app), app.extensions["schema_problem"]
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.postgresql_only
def test_instances_starting_together_on_an_empty_database_migrate_it_once(database: str) -> None:
    spawn = get_context("spawn")
    with ProcessPoolExecutor(
        INSTANCES, mp_context=spawn, initializer=_get_ready, initargs=(spawn.Barrier(INSTANCES),)
    ) as pool:
        started = list(pool.map(start_instance, [database] * INSTANCES))
    assert started == [(LATEST, None)] * INSTANCES


@pytest.mark.sqlite_only
def test_flask_db_works_from_the_command_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "LOGINFLOW_"))}
    env |= {"LOGINFLOW_CONFIG": "TestingConfig", "LOGINFLOW_INSTANCE_PATH": str(tmp_path)}
    env["FLASK_SQLALCHEMY_DATABASE_URI"] = f'"sqlite:///{tmp_path / "site.sqlite"}"'
    flask = [sys.executable, "-m", "flask", "--app", "loginflow", "db"]
    upgraded = subprocess.run([*flask, "upgrade"], env=env, capture_output=True, text=True)
    assert "Running upgrade  -> 0001" in upgraded.stderr
    current = subprocess.run([*flask, "current"], env=env, capture_output=True, text=True)
    assert current.stdout == f"{LATEST} (head)\n"


def test_the_migrations_make_the_schema_the_models_describe(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect an index on lower(username); the test above checks that one.
        warnings.filterwarnings("ignore", ".*expression-based index")
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


@pytest.mark.sqlite_only
def test_a_database_of_0_1_0_is_marked_as_revision_0001_and_keeps_everything(
    make_app: MakeApp, tmp_path: Path
) -> None:
    database_file = tmp_path / "site.sqlite"
    with closing(sqlite3.connect(database_file)) as old:
        old.executescript(SCHEMA_0_1_0)
        old.execute(
            "INSERT INTO users VALUES (1, 'alice', ?, 1, '2026-01-01 00:00:00')",
            (generate_password_hash(PASSWORD, "pbkdf2:sha256:1"),),
        )
        selector, validator = REMEMBER_0_1_0.split(":")
        old.execute(
            "INSERT INTO sign_ins (id, user_id, created_at, last_seen_at, user_agent,"
            " session_token, session_began_by, session_began_at, password_version,"
            " remember_selector, remember_validator_hash, remember_expires_at)"
            " VALUES (1, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00', '', 'oldtoken',"
            " 'password', '2026-11-01 00:00:00', 1, ?, ?, '2027-11-01 00:00:00')",
            (selector, hashlib.sha256(validator.encode()).hexdigest()),
        )
        old.commit()
    app = database_app(make_app, f"sqlite:///{database_file}")
    assert revision(app) == "0001"
    flask_db(app, "upgrade")  # what make run and make serve do next
    client = app.test_client()
    client.set_cookie("remember", REMEMBER_0_1_0)
    restored = client.get("/")
    assert "Hello, alice" in restored.text
    assert set_cookie(restored, "remember") is not None  # rotated: the old sign-in lives on
    assert sign_in(app.test_client()).status_code == 302  # and so does the password


@pytest.mark.sqlite_only
def test_a_database_of_someone_else_answers_503_and_says_so(
    make_app: MakeApp, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database_file = tmp_path / "site.sqlite"
    with closing(sqlite3.connect(database_file)) as other:
        other.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        other.commit()
    with caplog.at_level(logging.ERROR):
        app = database_app(make_app, f"sqlite:///{database_file}")
    assert caplog.messages == [
        "The database holds tables that loginflow did not make: point it at another. "
        "Until then every page answers 503."
    ]
    assert app.test_client().get("/login").status_code == 503


def test_a_database_at_the_first_revision_keeps_its_accounts_and_sign_ins_when_upgraded(
    make_app: MakeApp, database: str
) -> None:
    app = database_app(make_app, database)
    flask_db(app, "downgrade", "base")
    flask_db(app, "upgrade", "0001")
    # An account and a remembered sign-in as the first revision's site stored them: only
    # its columns, since today's site, signing in, would write the later ones too.
    selector, validator = REMEMBER_0_1_0.split(":")
    with app.app_context():
        password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256:1")
        db.session.execute(insert(User).values(username="alice", password_hash=password_hash))
        db.session.execute(
            insert(SignIn.__table__).values(
                user_id=db.session.scalar(select(User.id)),
                user_agent="",
                session_token="first-revision-token",
                session_began_by="password",
                password_version=1,
                remember_selector=selector,
                remember_validator_hash=hashlib.sha256(validator.encode()).hexdigest(),
                remember_expires_at=utcnow() + timedelta(days=14),
            )
        )
        db.session.commit()

    flask_db(app, "upgrade")

    assert revision(app) == LATEST
    upgraded = database_app(make_app, database)
    returning = upgraded.test_client()
    returning.set_cookie("remember", REMEMBER_0_1_0)
    assert "Hello, alice" in returning.get("/").text
    assert sign_in(upgraded.test_client()).status_code == 302


def test_a_database_on_another_revision_answers_503_until_it_is_this_versions(
    make_app: MakeApp, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    with database_app(make_app, database).app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        db.session.commit()
    with caplog.at_level(logging.ERROR):
        app = database_app(make_app, database)
    assert caplog.messages == [
        "The database was migrated by a newer version of loginflow (9999). "
        "Until then every page answers 503."
    ]
    client = app.test_client()
    waiting = client.get("/login")
    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"] == "30"
    assert "Please try again in a minute" in waiting.text
    static = client.get("/static/style.css")  # the 503 page keeps its looks
    static.close()
    assert static.status_code == 200

    flask_db(app, "stamp", "--purge", LATEST)  # an operator marks it as this version's

    assert client.get("/login").status_code == 200  # the same running site, back by itself


@pytest.mark.sqlite_only
def test_a_sqlite_file_is_written_through_a_write_ahead_log_that_survives_a_power_cut(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.sqlite'}")
    with app.app_context():
        db.engine.dispose()  # every new connection, not only the first, is set up
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == FULL
    assert (tmp_path / "site.sqlite-wal").exists()
