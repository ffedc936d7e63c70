"""Publishing: submissions the web tier could not publish

A submission stored while the broker was down is marked with ``unpublished_at``, and a
partial index holds just those rows, so that the frequent resend (service.services.sweep)
costs one lookup in an empty index when there is nothing to send.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNPUBLISHED = sa.text("unpublished_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("unpublished_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_submissions_unpublished",
        "submissions",
        ["id"],
        sqlite_where=_UNPUBLISHED,
        postgresql_where=_UNPUBLISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_submissions_unpublished", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("unpublished_at")
