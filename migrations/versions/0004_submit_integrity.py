"""Submit integrity: atomic attempt numbers, idempotency keys scoped to (user, variant)

Concurrent submits used to count a variant's attempts and then insert, so two requests
could both store "attempt 1". From here on (variant_id, attempt_number) is unique. Rows
stored by that race are renumbered first, per variant in the order they were stored
(by id), so no submission is dropped and the constraint can be added.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Variants whose attempt numbers are not exactly 1..n (duplicates from the race, or gaps).
_MISNUMBERED = """
    SELECT variant_id FROM submissions
    GROUP BY variant_id
    HAVING COUNT(*) != MAX(attempt_number)
        OR COUNT(DISTINCT attempt_number) != COUNT(*)
        OR MIN(attempt_number) != 1
"""

#: Each of their submissions becomes attempt k, k = its rank by id within the variant.
#: A correlated count rather than a window function, so it reads the same on both backends.
_RENUMBER = f"""
    UPDATE submissions SET attempt_number = (
        SELECT COUNT(*) FROM submissions AS earlier
        WHERE earlier.variant_id = submissions.variant_id AND earlier.id <= submissions.id
    )
    WHERE variant_id IN ({_MISNUMBERED})
"""


def upgrade() -> None:
    op.execute(_RENUMBER)
    with op.batch_alter_table("submissions") as batch:
        batch.alter_column(
            "idempotency_key",
            existing_type=sa.String(length=128),
            type_=sa.String(length=255),
            existing_nullable=True,
        )
        batch.add_column(sa.Column("answers_sha256", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            "uq_submissions_variant_attempt", ["variant_id", "attempt_number"]
        )
        # The constraint's index leads with variant_id: the old one would only cost writes.
        batch.drop_index("ix_submissions_variant")


def downgrade() -> None:
    # Keys longer than the old column cannot be kept; forgetting one only ends its replay.
    op.execute("UPDATE submissions SET idempotency_key = NULL WHERE LENGTH(idempotency_key) > 128")
    with op.batch_alter_table("submissions") as batch:
        batch.create_index("ix_submissions_variant", ["variant_id"], unique=False)
        batch.drop_constraint("uq_submissions_variant_attempt", type_="unique")
        batch.drop_column("answers_sha256")
        batch.alter_column(
            "idempotency_key",
            existing_type=sa.String(length=255),
            type_=sa.String(length=128),
            existing_nullable=True,
        )
