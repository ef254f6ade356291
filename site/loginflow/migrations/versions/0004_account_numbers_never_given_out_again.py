"""Account numbers are never given out again, and sign-ins older than their account go.

SQLite gives a deleted newest account's number to the next account made. An account deleted
where foreign keys are not enforced (the sqlite3 shell's default, or loginflow before they
were) leaves its sign-ins behind, and their cookies then open that next account; revision
0002 deleted such sign-ins only while no account had the number yet. Now SQLite never gives
a number out again (AUTOINCREMENT), as PostgreSQL's sequences never did, so a sign-in left
behind opens nothing; and a sign-in made before its account, one an earlier account with
the number left, is deleted. PostgreSQL, whose foreign key always held, needs nothing.

Revision ID: 0004
Revises: 0003
Created: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # A sign-in made before its account belonged to an earlier account with that number.
    op.execute(
        "DELETE FROM sign_ins WHERE created_at < "
        "(SELECT created_at FROM users WHERE users.id = sign_ins.user_id)"
    )
    # Of no account (deleted since, foreign keys off): the count goes on from the highest kept.
    op.execute("DELETE FROM sign_ins WHERE user_id NOT IN (SELECT id FROM users)")
    # SQLite cannot reflect the index on lower(username), so the copy would lose it: made anew.
    op.drop_index("ix_users_username_lower", table_name="users")
    with op.batch_alter_table(
        "users", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    op.create_index("ix_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    """Nothing to undo: numbers never given out again are harmless to the older version."""
