"""Line items found or created by the tool: a claim on the link, and sends before the URL

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lti_resource_links") as batch:
        batch.add_column(
            sa.Column("lineitem_claimed_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("lti_score_sends") as batch:
        batch.alter_column("lineitem_url", existing_type=sa.String(1024), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE lti_score_sends SET lineitem_url = '' WHERE lineitem_url IS NULL")
    with op.batch_alter_table("lti_score_sends") as batch:
        batch.alter_column("lineitem_url", existing_type=sa.String(1024), nullable=False)
    with op.batch_alter_table("lti_resource_links") as batch:
        batch.drop_column("lineitem_claimed_at")
