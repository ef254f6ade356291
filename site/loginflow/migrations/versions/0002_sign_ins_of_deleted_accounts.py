"""Sign-ins of deleted accounts are deleted.

Until loginflow enforced SQLite's foreign keys, deleting an account left its sign-ins
behind, and SQLite gives a deleted newest account's id to the next one made: those sign-ins'
cookies would open that account. This does what ON DELETE CASCADE would have done; on
PostgreSQL, which always enforced it, there is nothing to delete.

Revision ID: 0002
Revises: 0001
Created: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM sign_ins WHERE user_id NOT IN (SELECT id FROM users)")


def downgrade() -> None:
    """Nothing to bring back: the deleted rows belonged to no account."""
