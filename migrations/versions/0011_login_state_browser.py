"""Login states are bound to the browser that started them, and purged by age

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lti_login_states") as batch:
        batch.add_column(sa.Column("browser_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("storage_target", sa.String(64), nullable=True))
        batch.add_column(sa.Column("continuation_hash", sa.String(64), nullable=True))
        batch.create_index("ix_lti_login_states_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("lti_login_states") as batch:
        batch.drop_index("ix_lti_login_states_created_at")
        batch.drop_column("continuation_hash")
        batch.drop_column("storage_target")
        batch.drop_column("browser_hash")
