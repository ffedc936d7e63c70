"""The files a student downloads for their variant, and its plot, drawn once and kept.

:func:`offered` is the one rule for what a variant offers: the problem page and the API
list exactly those files and that plot, and the routes serve nothing else (a problem
without data, such as a design question, offers no empty files and no broken plot).
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import problem_bank
from service.models import StoredVariant, VariantPlot

#: Download name → (variant content key, the full Content-Type header, what it is). Give
#: the header to a Response as ``content_type``: werkzeug adds a second charset to a
#: ``mimetype`` that already names one.
DOWNLOADS = {
    "data.csv": ("data_csv", "text/csv; charset=utf-8", "your dataset"),
    "fit.R": ("r_script", "text/plain; charset=utf-8", "loads it and fits the model in R"),
    "fit.py": ("python_script", "text/x-python; charset=utf-8", "the same in Python"),
}


class PlotUnavailable(LookupError):
    """This variant has no plot (the problem asks for none, or it cannot be drawn)."""


class NoSuchFile(LookupError):
    """This variant offers no file of that name."""


@dataclass(frozen=True)
class Download:
    name: str
    content_type: str
    description: str


@dataclass(frozen=True)
class Offered:
    """What one variant offers: its non-empty downloads, and whether it has a plot."""

    downloads: tuple[Download, ...]
    plot: bool


@functools.lru_cache(maxsize=64)
def _spec(spec_text: str) -> problem_bank.ProblemSpec:
    """A stored spec, parsed once per process: its text never changes for a version."""
    return problem_bank.parse_spec(spec_text)


def offered(variant: StoredVariant) -> Offered:
    """The downloads with content and the plot, if the problem draws one of this data."""
    content = variant.content
    downloads = tuple(
        Download(name, content_type, description)
        for name, (key, content_type, description) in DOWNLOADS.items()
        if content.get(key)
    )
    has_plot = bool(content.get("data_csv")) and _spec(variant.problem.spec_text).plot is not None
    return Offered(downloads, has_plot)


def file_body(variant: StoredVariant, name: str) -> tuple[str, str]:
    """(text, Content-Type) of an offered download; :class:`NoSuchFile` otherwise."""
    if name not in {d.name for d in offered(variant).downloads}:
        raise NoSuchFile(name)
    key, content_type, _ = DOWNLOADS[name]
    return variant.content[key], content_type


def plot_text(variant: StoredVariant) -> str:
    """What the variant's plot shows, in words (its alt text and caption); "" if none."""
    if not offered(variant).plot:
        return ""
    spec = _spec(variant.problem.spec_text)
    return problem_bank.plot_text(spec, problem_bank.Variant.from_dict(variant.content))


def plot_png(session: Session, variant: StoredVariant) -> bytes:
    """The variant's plot as PNG, drawn on first request and stored.

    Stored rather than redrawn, because a later matplotlib or style change must not alter
    a picture the student has already seen.
    """
    cached = session.get(VariantPlot, variant.id)
    if cached is not None:
        return cached.png
    if not offered(variant).plot:
        raise PlotUnavailable("this problem has no plot")
    spec = _spec(variant.problem.spec_text)
    try:
        png = problem_bank.plot_png(spec, problem_bank.Variant.from_dict(variant.content))
    except (ImportError, AttributeError, NotImplementedError, KeyError) as error:
        raise PlotUnavailable(f"the plot cannot be drawn: {error}") from None
    if not png:
        raise PlotUnavailable("the plot cannot be drawn")
    try:
        with session.begin_nested():
            session.add(VariantPlot(variant_id=variant.id, png=png))
        session.commit()
    except IntegrityError:  # another request stored it first: serve theirs
        cached = session.get(VariantPlot, variant.id)
        if cached is not None:
            return cached.png
    return png


@dataclass(frozen=True)
class Preview:
    """The first rows of a variant's dataset, for a page that shows it as a table."""

    header: list[str]
    rows: list[list[str]]
    total: int


def preview(variant: StoredVariant, limit: int = 10) -> Preview | None:
    """The dataset's header and first ``limit`` rows (None for a problem without data)."""
    text = variant.content.get("data_csv")
    if not text:
        return None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    rows = list(reader)
    return Preview(header, rows[:limit], len(rows))
