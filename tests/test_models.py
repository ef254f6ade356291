"""The database as the models set it up."""

from pathlib import Path

from sqlalchemy import text

from loginflow.extensions import db

from .conftest import MakeApp

FULL = 2  # PRAGMA synchronous: a commit is on disk before it returns


def test_a_sqlite_file_is_written_through_a_write_ahead_log_that_survives_a_power_cut(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.sqlite'}")
    with app.app_context():
        db.engine.dispose()  # every new connection, not only the first, is set up
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == FULL
    assert (tmp_path / "site.sqlite-wal").exists()
