"""How Alembic reaches loginflow's database: through the Flask app that runs ``flask db``.

The database URL is never written into Alembic's settings, where an error message or the
offline SQL could show its password: migrations run on the app's own engine.
"""

import logging

from alembic import context
from flask import current_app
from flask.logging import default_handler
from sqlalchemy import text

# Alembic says what it applies ("Running upgrade  -> 0001"), as `flask db` users expect, on
# the stream Flask logs to, unless logging is set up already (Alembic's own logger holds a
# NullHandler only). Only Alembic's logger: the site's own logging stays as it is.
alembic_log = logging.getLogger("alembic")
if not logging.getLogger().handlers and all(
    isinstance(handler, logging.NullHandler) for handler in alembic_log.handlers
):
    alembic_log.addHandler(default_handler)
    alembic_log.setLevel(logging.INFO)

# Any number, the same for every instance of the site: the key of its migration lock.
MIGRATION_LOCK = 2_026_112_801

migrate = current_app.extensions["migrate"]
options = {"target_metadata": migrate.db.metadata, **migrate.configure_args}

if context.is_offline_mode():
    # `flask db upgrade --sql`: the statements, for a person to read or apply.
    context.configure(dialect_name=migrate.db.engine.dialect.name, literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()
else:
    with migrate.db.engine.connect() as connection:
        # Instances starting together on an empty PostgreSQL database would each migrate
        # it, and all but one fail: the first takes this lock, the others wait for it, then
        # find the work done. (SQLite serves one machine: make serve migrates before starting.)
        serialized = connection.dialect.name == "postgresql"
        if serialized:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
        # On SQLite a batch migration copies a table, drops the old one and renames the copy:
        # with foreign keys enforced (database.py), dropping users would delete every sign-in
        # (ON DELETE CASCADE). Off while migrating, outside a transaction as SQLite needs.
        enforced = (
            connection.dialect.name == "sqlite"
            and connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        )
        if enforced:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if serialized:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                connection.commit()
            if enforced:  # the connection goes back to the pool: enforcing again
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
