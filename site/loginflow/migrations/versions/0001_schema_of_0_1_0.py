"""The schema of loginflow 0.1.0: users, and each browser signed in (sign_ins).

Revision ID: 0001
Revises:
Created: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("password_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    # "Alice" and "alice" cannot both exist (autogenerate cannot see expression indexes).
    op.create_index("ix_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=False),
        sa.Column("session_token", sa.String(length=32), nullable=False),
        sa.Column("session_began_by", sa.String(length=16), nullable=False),
        sa.Column("session_began_at", sa.DateTime(), nullable=False),
        sa.Column("password_version", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("remember_selector", sa.String(length=32), nullable=True),
        sa.Column("remember_validator_hash", sa.String(length=64), nullable=True),
        sa.Column("remember_expires_at", sa.DateTime(), nullable=True),
        sa.Column("remember_previous_validator_hash", sa.String(length=64), nullable=True),
        sa.Column("remember_rotated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sign_ins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_ins")),
        sa.UniqueConstraint("remember_selector", name=op.f("uq_sign_ins_remember_selector")),
        sa.UniqueConstraint("session_token", name=op.f("uq_sign_ins_session_token")),
    )
    op.create_index(op.f("ix_sign_ins_user_id"), "sign_ins", ["user_id"])


def downgrade() -> None:
    op.drop_table("sign_ins")
    op.drop_table("users")
