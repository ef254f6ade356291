"""A sign-in keeps the session token that confirming the password replaced.

Confirming the password at /reauth draws a new session token; a request that set out with
the one it replaced (a second click on Confirm, another tab's) still finds its sign-in for
a short grace, instead of being signed out. The column is NULL for every sign-in until its
next confirmation, so no existing session is affected.

Revision ID: 0003
Revises: 0002
Created: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sign_ins") as batch_op:
        batch_op.add_column(
            sa.Column("previous_session_token", sa.String(length=32), nullable=True)
        )
        # Unique, so looking up a token any request may send costs one index probe.
        batch_op.create_index(
            batch_op.f("ix_sign_ins_previous_session_token"),
            ["previous_session_token"],
            unique=True,
        )


def downgrade() -> None:
    """Requests with a replaced token are signed out again, as before."""
    # SQLite copies sign_ins to drop a column. Without following its foreign key to users,
    # whose lower(username) index SQLite cannot reflect: the key is copied all the same.
    with op.batch_alter_table("sign_ins", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_ins_previous_session_token"))
        batch_op.drop_column("previous_session_token")
