"""The instructor's week: score policy, archived problems, new versions, exceptions,
overrides and the audit log

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(
            sa.Column(
                "score_policy",
                sa.Enum(
                    "best",
                    "last",
                    "average",
                    name="score_policy",
                    native_enum=False,
                    length=16,
                    create_constraint=False,
                ),
                nullable=False,
                server_default="best",
            )
        )
    with op.batch_alter_table("assignment_problems") as batch:
        batch.add_column(sa.Column("archived_at", _WHEN, nullable=True))
    with op.batch_alter_table("variants") as batch:
        batch.add_column(sa.Column("replaced_at", _WHEN, nullable=True))

    op.create_table(
        "assignment_exceptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assignment_id",
            sa.Integer(),
            sa.ForeignKey("assignments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("due_at", _WHEN, nullable=True),
        sa.Column("late_until", _WHEN, nullable=True),
        sa.Column("extra_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.UniqueConstraint("assignment_id", "user_id"),
    )

    op.create_table(
        "score_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "submission_id",
            sa.Integer(),
            sa.ForeignKey("submissions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("part_id", sa.String(64), nullable=True),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", _WHEN, nullable=False),
    )
    op.create_index(
        "uq_score_overrides_part",
        "score_overrides",
        ["submission_id", "part_id"],
        unique=True,
        sqlite_where=sa.text("part_id IS NOT NULL"),
        postgresql_where=sa.text("part_id IS NOT NULL"),
    )
    op.create_index(
        "uq_score_overrides_attempt",
        "score_overrides",
        ["submission_id"],
        unique=True,
        sqlite_where=sa.text("part_id IS NULL"),
        postgresql_where=sa.text("part_id IS NULL"),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "course_id",
            sa.Integer(),
            sa.ForeignKey("courses.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column(
            "student_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "assignment_id",
            sa.Integer(),
            sa.ForeignKey("assignments.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "assignment_problem_id",
            sa.Integer(),
            sa.ForeignKey("assignment_problems.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "submission_id",
            sa.Integer(),
            sa.ForeignKey("submissions.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
    )
    op.create_index("ix_audit_events_course", "audit_events", ["course_id", "id"])
    op.create_index("ix_audit_events_assignment", "audit_events", ["assignment_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_assignment", table_name="audit_events")
    op.drop_index("ix_audit_events_course", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("uq_score_overrides_attempt", table_name="score_overrides")
    op.drop_index("uq_score_overrides_part", table_name="score_overrides")
    op.drop_table("score_overrides")
    op.drop_table("assignment_exceptions")
    with op.batch_alter_table("variants") as batch:
        batch.drop_column("replaced_at")
    with op.batch_alter_table("assignment_problems") as batch:
        batch.drop_column("archived_at")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("score_policy")
