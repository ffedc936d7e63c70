"""db.among: the same rows as an IN list, on both databases, whatever the list's length."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.orm import Session

from service.db import among, make_engine

_numbers = Table("among_numbers", MetaData(), Column("n", Integer, primary_key=True))


@pytest.fixture(params=["sqlite", "postgresql"])
def session(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'among.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = make_engine(url)
    _numbers.metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(insert(_numbers), [{"n": n} for n in range(1, 1001)])
        session.commit()
        yield session
    engine.dispose()


@pytest.mark.parametrize(
    "ids", [[], [7], [3, 3, 5], list(range(2, 1200, 3)), (n for n in (10, 20, 5000))]
)
def test_among_reads_what_in_reads(session, ids):
    ids = list(ids)
    got = session.scalars(select(_numbers.c.n).where(among(session, _numbers.c.n, ids)))
    assert sorted(got) == sorted({n for n in ids if 1 <= n <= 1000})


def test_two_among_in_one_statement_keep_their_own_values(session):
    both = select(_numbers.c.n).where(
        among(session, _numbers.c.n, [1, 2, 3, 4]), among(session, _numbers.c.n, [3, 4, 9])
    )
    assert sorted(session.scalars(both)) == [3, 4]
