"""web front end: self-test results, late cut-off, cached plots, login rate limit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("problems") as batch:
        batch.add_column(sa.Column("selftest", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("selftest_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("late_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "variant_plots",
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["variant_id"], ["variants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("variant_id"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("variant_plots")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("late_until")
    with op.batch_alter_table("problems") as batch:
        batch.drop_column("selftest_at")
        batch.drop_column("selftest")
