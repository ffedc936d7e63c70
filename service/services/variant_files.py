"""The files a student downloads for their variant, and its plot, drawn once and kept."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import problem_bank
from service.models import Variant, VariantPlot

#: Download name → (variant content key, the full Content-Type header). Give it to a
#: Response as ``content_type``: werkzeug adds a second charset to a ``mimetype`` that
#: already names one.
DOWNLOADS = {
    "data.csv": ("data_csv", "text/csv; charset=utf-8"),
    "fit.R": ("r_script", "text/plain; charset=utf-8"),
    "fit.py": ("python_script", "text/x-python; charset=utf-8"),
}


class PlotUnavailable(LookupError):
    """This variant has no plot (the problem asks for none, or it cannot be drawn)."""


def plot_png(session: Session, variant: Variant) -> bytes:
    """The variant's plot as PNG, drawn on first request and stored.

    Stored rather than redrawn, because a later matplotlib or style change must not alter
    a picture the student has already seen.
    """
    cached = session.get(VariantPlot, variant.id)
    if cached is not None:
        return cached.png
    spec = problem_bank.parse_spec(variant.problem.spec_text)
    if not spec.plot:
        raise PlotUnavailable("this problem has no plot")
    try:
        png = problem_bank.plot_png(spec, problem_bank.Variant.from_dict(variant.content))
    except (ImportError, AttributeError, NotImplementedError, KeyError) as error:
        raise PlotUnavailable(f"the plot cannot be drawn: {error}") from None
    try:
        with session.begin_nested():
            session.add(VariantPlot(variant_id=variant.id, png=png))
        session.commit()
    except IntegrityError:  # another request stored it first: serve theirs
        cached = session.get(VariantPlot, variant.id)
        if cached is not None:
            return cached.png
    return png
