"""The database: its schema, kept by migrations (Flask-Migrate, Alembic); SQLite's settings.

``flask --app loginflow db upgrade`` brings a database to the schema of this version;
``make run`` and ``make serve`` run it before serving. At start, a new, empty database is
migrated, and one made by loginflow 0.1.0 (before migrations) is marked as revision 0001,
which is its schema. A database behind (or ahead of) this version's migrations is said at
start in one line, and every page answers 503 until it is upgraded: the site cannot refuse
to load, since ``flask db upgrade`` itself loads it to reach the database.
"""

import logging
from functools import cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, request
from flask_migrate import Migrate, stamp, upgrade
from sqlalchemy import Engine, event, inspect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response

from .errors import DATABASE_RETRY_AFTER, render_error
from .extensions import db
from .settings import ConfigurationError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE = "flask --app loginflow db upgrade"

# SQLite can change a table only by copying it: batch mode makes every new migration do
# so, and works the same on PostgreSQL.
migrate = Migrate(directory=str(MIGRATIONS), render_as_batch=True)

# The tables of loginflow 0.1.0, made by db.create_all() before there were migrations.
TABLES_0_1_0 = {
    "users": {"id", "username", "password_hash", "password_version", "created_at"},
    "sign_ins": {
        "id",
        "user_id",
        "created_at",
        "last_seen_at",
        "user_agent",
        "session_token",
        "session_began_by",
        "session_began_at",
        "password_version",
        "revoked_at",
        "remember_selector",
        "remember_validator_hash",
        "remember_expires_at",
        "remember_previous_validator_hash",
        "remember_rotated_at",
    },
}


def init_app(app: Flask) -> None:
    """Migrations, SQLite's journal and foreign keys, and the guard that answers 503 on
    another schema."""
    migrate.init_app(app, db)
    with app.app_context():
        use_write_ahead_log(db.engine)
        enforce_foreign_keys(db.engine)
    app.extensions["schema_problem"] = None
    app.before_request(_wait_for_upgrade)


def prepare(app: Flask) -> None:
    """Migrate a new database, and note (and say) why this one's schema will not do."""
    with app.app_context():
        try:
            _create_or_adopt()
            problem = schema_problem()
        except SQLAlchemyError as error:
            db.engine.dispose()  # a start that fails leaves no connection open
            # The kind of error only: the message may quote a URL with its password.
            kind = type(getattr(error, "orig", error)).__name__
            raise ConfigurationError(
                f"The database cannot be used ({kind}): check FLASK_SQLALCHEMY_DATABASE_URI."
            ) from None
    app.extensions["schema_problem"] = problem
    if problem:
        log.error("%s Until then every page answers 503.", problem)


def schema_problem() -> str | None:
    """Why the database's schema is not this version's, in one line; None if it is."""
    current = _current_revision()
    if current == _scripts().get_current_head():
        return None
    if current is None:
        return "The database holds tables that loginflow did not make: point it at another."
    if current not in {script.revision for script in _scripts().walk_revisions()}:
        return f"The database was migrated by a newer version of loginflow ({current})."
    return f"The database's schema is older than this version of loginflow: run `{UPGRADE}`."


def use_write_ahead_log(engine: Engine) -> None:
    """On SQLite, every connection writes through a write-ahead log (WAL).

    A commit then appends to one file instead of rewriting a journal beside the database,
    which makes a sign-in or a restore about twice as fast, and readers never wait for a
    writer. Durability is unchanged: ``synchronous`` stays FULL, so a commit (a revocation)
    survives a power cut. A database in memory keeps its own journal and ignores it.
    """
    _on_each_sqlite_connection(engine, "PRAGMA journal_mode=WAL")


def enforce_foreign_keys(engine: Engine) -> None:
    """On SQLite, every connection enforces foreign keys, as PostgreSQL always does.

    SQLite leaves them off unless asked, on each connection. Off, deleting a ``users`` row
    would leave its sign-ins behind instead of deleting them (``ON DELETE CASCADE``), and
    SQLite gives a deleted newest row's id to the next account made: the deleted account's
    session and remember cookies would then open that account. Migrations switch them off
    while they copy tables (migrations/env.py).
    """
    _on_each_sqlite_connection(engine, "PRAGMA foreign_keys=ON")


def _on_each_sqlite_connection(engine: Engine, pragma: str) -> None:
    """Run ``pragma`` on every new connection of ``engine``, if it is SQLite's."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def run_pragma(connection: DBAPIConnection, _: object) -> None:
        cursor = connection.cursor()
        cursor.execute(pragma)
        cursor.close()


def _create_or_adopt() -> None:
    """Migrate a database with no table of the site's; mark one of 0.1.0 as revision 0001."""
    if _current_revision() is not None:
        return
    inspector = inspect(db.engine)
    tables = set(inspector.get_table_names())
    if not tables & set(db.metadata.tables):
        upgrade()
    elif set(TABLES_0_1_0) <= tables and all(
        {column["name"] for column in inspector.get_columns(table)} == columns
        for table, columns in TABLES_0_1_0.items()
    ):
        stamp(revision="0001")
        log.warning("The database was made by loginflow 0.1.0: marked as revision 0001.")


def _current_revision() -> str | None:
    """The revision Alembic noted in the database; None if none is (or no table for it)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _wait_for_upgrade() -> Response | None:
    """Before each request, while the schema is not this version's: the 503 page.

    Checked again on every request, so the site comes back by itself once upgraded.
    """
    if current_app.extensions["schema_problem"] is None or request.endpoint == "static":
        return None
    current_app.extensions["schema_problem"] = schema_problem()
    if current_app.extensions["schema_problem"] is None:
        return None
    response = render_error(ServiceUnavailable(), database_down=True)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


@cache
def _scripts() -> ScriptDirectory:
    """The migrations shipped with this version (read once: they never change while it runs)."""
    return ScriptDirectory(str(MIGRATIONS))
