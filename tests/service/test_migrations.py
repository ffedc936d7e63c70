"""The schema comes only from Alembic, and the migrations match the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from service import migrate
from service.db import Base, make_engine

TABLES = {
    "users",
    "courses",
    "enrollments",
    "problems",
    "assignments",
    "assignment_problems",
    "variants",
    "submissions",
}


def _check_upgrade_matches_models(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        engine.dispose()
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    try:
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path):
    _check_upgrade_matches_models(f"sqlite:///{tmp_path / 'm.sqlite'}")


def test_postgres_upgrade_matches_models_and_downgrades(postgres_url):
    _check_upgrade_matches_models(postgres_url)
