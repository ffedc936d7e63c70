"""The Celery task layer's own logic (the tasks themselves run in tests/service and integration)."""

from __future__ import annotations

from graders import tasks
from tests.graders.builders import numeric, variant


def test_a_content_object_is_parsed_once_and_another_is_parsed_anew(monkeypatch) -> None:
    parses: list[dict] = []
    real = tasks.Variant.from_dict

    def counting(content):  # type: ignore[no-untyped-def]
        parses.append(content)
        return real(content)

    monkeypatch.setattr(tasks.Variant, "from_dict", counting)
    monkeypatch.setattr(tasks, "_parsed_variants", {})
    stored = variant(numeric(0.5)).to_dict()

    first = tasks._parsed(stored)
    assert tasks._parsed(stored) is first
    assert len(parses) == 1

    # Equal content in another object (another store, another database): parsed again,
    # and its own answer is used, never the cached one.
    other = variant(numeric(0.75)).to_dict()
    assert tasks._parsed(other).parts[0].answer == 0.75
    assert tasks._parsed(dict(stored)) == first
    assert len(parses) == 3


def test_the_cache_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(tasks, "_parsed_variants", {})
    contents = [
        variant(numeric(float(i))).to_dict() for i in range(tasks._PARSED_VARIANTS_KEPT + 5)
    ]
    for content in contents:
        tasks._parsed(content)
    assert len(tasks._parsed_variants) <= tasks._PARSED_VARIANTS_KEPT
