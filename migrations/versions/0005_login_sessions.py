"""Login and sessions: atomic login limit, per-user session epoch

The login limit moves from one row per failure (counted, then inserted: racy) to one
counter row per key, reserved with an atomic upsert. ``users.session_epoch`` is part of
every session's id, so raising it ends all of a user's sessions on the server side.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTERs, not batch mode: recreating ``users`` on SQLite would drop the table
    # that enrollments, variants and submissions point at.
    op.add_column(
        "users", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_table(
        "login_tries",
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_login_tries_window_started_at", "login_tries", ["window_started_at"])
    # Counts of the old table are not carried over: at worst a locked account unlocks early.
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])
    op.drop_index("ix_login_tries_window_started_at", table_name="login_tries")
    op.drop_table("login_tries")
    op.drop_column("users", "session_epoch")  # SQLite >= 3.35 drops a column in place
