"""Seeds are 63-bit: a student who holds their data cannot search every seed offline

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("variants") as batch:
        batch.alter_column("seed", existing_type=sa.Integer(), type_=sa.BigInteger())


def downgrade() -> None:
    # Seeds issued at 63 bits do not fit back; stored variants keep their content, and
    # only the seed column narrows, so refuse rather than truncate.
    bind = op.get_bind()
    wide = bind.execute(sa.text("SELECT count(*) FROM variants WHERE seed > 2147483647")).scalar()
    if wide:
        raise RuntimeError(f"{wide} variants have seeds wider than 32 bits; cannot downgrade")
    with op.batch_alter_table("variants") as batch:
        batch.alter_column("seed", existing_type=sa.BigInteger(), type_=sa.Integer())
