"""Who launched from (or is rostered in) each LMS course: scores go only to its line items;
linking a launch to a local account by email is a per-platform setting, off by default

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lti_platforms") as batch:
        batch.add_column(
            sa.Column("link_by_email", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "lti_context_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_row_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["context_row_id"], ["lti_contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("context_row_id", "user_id"),
    )
    # Before this table a score went to every line item of the assignment on the student's
    # platforms; keep that for people already enrolled, as the best that can be known.
    op.execute(
        """
        INSERT INTO lti_context_members (context_row_id, user_id)
        SELECT DISTINCT c.id, e.user_id
        FROM lti_contexts c
        JOIN enrollments e ON e.course_id = c.course_id
        JOIN lti_identities i ON i.user_id = e.user_id AND i.platform_id = c.platform_id
        """
    )


def downgrade() -> None:
    op.drop_table("lti_context_members")
    with op.batch_alter_table("lti_platforms") as batch:
        batch.drop_column("link_by_email")
