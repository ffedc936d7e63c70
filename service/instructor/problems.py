"""The problem bank: browse, preview, write (the editor), self-test, publish, delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

import problem_bank
from problem_bank.generate import check_seed
from problem_bank.render import plural
from service import docs_pages
from service.instructor.blueprint import author_only, bp
from service.models import Problem, ProblemStatus
from service.request_input import printable
from service.routing import row_id
from service.services import authoring, draft_plots, unrecognised
from service.web_db import db


@bp.route("/problems")
def bank():
    """The bank, filtered by the query (``status``, ``topic``, ``author``): bookmarkable."""
    wanted = _bank_filter()
    problems = authoring.visible(db(), current_user, wanted)
    by_slug: dict[str, list[Problem]] = {}
    for p in problems:
        by_slug.setdefault(p.slug, []).append(p)
    topics, authors = authoring.bank_choices(db(), current_user)
    return render_template(
        "teach/bank.html",
        by_slug=by_slug,
        wanted=wanted,
        statuses=authoring.STATUSES,
        topics=topics,
        authors=authors,
        author_names=dict(authors),
    )


def _bank_filter() -> authoring.BankFilter:
    """The bank's filter from the query string; an unknown value is a 400 that says so."""
    raw_status = request.args.get("status", "").strip()
    if raw_status and raw_status not in authoring.STATUSES:
        abort(
            400,
            f"Unknown status {printable(raw_status[:40])!r}: "
            f"choose one of {', '.join(authoring.STATUSES)}.",
        )
    raw_author = request.args.get("author", "").strip()
    author: int | str | None = None
    if raw_author == authoring.BUILTIN_AUTHOR:
        author = authoring.BUILTIN_AUTHOR
    elif raw_author:
        author = row_id(raw_author)
        if author is None:
            abort(
                400,
                f"Unknown author {printable(raw_author[:40])!r}: "
                f"give a user id or {authoring.BUILTIN_AUTHOR!r}.",
            )
    return authoring.BankFilter(
        status=ProblemStatus(raw_status) if raw_status else None,
        topic=request.args.get("topic", "").strip()[:128],
        author=author,
    )


@bp.route("/problems/<int:problem_id>")
def preview(problem_id: int):
    problem = _problem(problem_id)
    seed = _seed(request.args.get("seed", "1"))
    try:
        shown = _preview_of(problem.spec_text, seed, problem=problem)
    except authoring.Refused as refused:  # stored before a limit it now exceeds
        shown = _Shown(seed, error=f"the spec is no longer valid: {refused}")
    versions = authoring.visible(
        db(), current_user, authoring.BankFilter(slug=problem.slug, with_archived=True)
    )
    return render_template(
        "teach/preview.html",
        problem=problem,
        shown=shown,
        seed=seed,
        versions=versions,
        can_edit=authoring.can_edit(current_user, problem),
        referenced=authoring.is_referenced(db(), problem.id),
    ), (422 if shown.error else 200)


@dataclass(frozen=True)
class _Shown:
    """What ``teach/_variant.html`` draws: one renderer for a saved problem's preview and
    the editor's preview of unsaved text."""

    seed: int
    variant: problem_bank.Variant | None = None
    plot_text: str = ""
    plot_url: str | None = None
    #: Why nothing is shown (a seed that cannot be generated, over budget).
    error: str | None = None
    #: Why the plot is not shown although the spec draws one.
    plot_note: str = ""


def _preview_of(
    text: str, seed: int, plot_url: str | None = None, problem: Problem | None = None
) -> _Shown:
    """The variant of ``text`` at ``seed``, its plot at ``plot_url`` (a saved
    ``problem``'s own plot route). :class:`authoring.Refused` if the text is not valid."""
    budget = _preview_budget()
    try:
        spec, variant = authoring.preview_text(text, seed, budget)
    except (problem_bank.InvalidSeed, problem_bank.GenerationError) as exc:
        return _Shown(seed, error=str(exc))  # OverBudget included: it says what took too long
    words = problem_bank.plot_text(spec, variant)
    if not words:
        return _Shown(seed, variant)
    if problem is not None:
        plot_url = url_for("instructor.preview_plot", problem_id=problem.id, seed=seed)
    note = ""
    if plot_url is None:
        note = (
            "This spec is too long to draw its plot before it is saved; "
            "save the draft to see the plot on its preview page."
        )
    return _Shown(seed, variant, words, plot_url, plot_note=note)


def _seed(raw: str) -> int:
    """A seed from a form or the query; anything but a non-negative integer is a 400."""
    try:
        return check_seed(int(raw.strip()))
    except ValueError:  # not a number, or problem_bank.InvalidSeed
        abort(
            400,
            f"The seed must be a whole number, 0 or more (below 2**63), "
            f"not {printable(raw[:40])!r}.",
        )


@bp.route("/problems/<int:problem_id>/plot.png")
def preview_plot(problem_id: int):
    """The plot of the previewed seed: drawn on request, stored nowhere (as the preview)."""
    problem = _problem(problem_id)
    seed = request.args.get("seed", "1")
    budget = _preview_budget()
    try:
        png = authoring.preview_plot(problem, int(seed), budget)
    except (ValueError, problem_bank.GenerationError) as exc:  # a bad seed; over budget
        abort(404, f"No plot for seed {seed!r}: {exc}")
    return _png(png, "This problem draws no plot.", max_age=3600)


@bp.route("/problems/new", methods=["GET", "POST"])
def new_problem():
    """Write a new problem: start from a template or a copy; Check, Preview, save."""
    author_only()
    if request.method == "POST":
        text = _uploaded_text()
        return _editor_action(text, None, lambda: authoring.check_new(db(), text))
    template = request.args.get("template")
    if template is not None:
        started = authoring.starting_text(db(), template)
        if started is None:
            abort(404, f"No template {printable(template[:64])!r}: choose one from the list.")
        return _editor(started)
    copied = row_id(request.args.get("copy"))
    if copied is None:
        return _editor("")
    # A copy of a problem one may not edit (a built-in): a new id, version 1.
    original = _problem(copied)
    text = authoring.with_key(
        authoring.with_key(original.spec_text, "version", "1"),
        "id",
        authoring.free_slug(db(), f"{original.slug}_copy"),
    )
    text, added = unrecognised.prefill(text, request.args)
    return _editor(text, added=added)


@bp.route("/problems/<int:problem_id>/edit", methods=["GET", "POST"])
def edit_problem(problem_id: int):
    author_only()
    base = _problem(problem_id)
    if not authoring.can_edit(current_user, base):
        abort(403, "Only the author can edit this problem; copy it under a new id instead.")
    if request.method == "POST":
        text = _uploaded_text()
        return _editor_action(text, base, lambda: authoring.check_version(db(), base, text))
    wanted = authoring.next_version(db(), base.slug)
    text = authoring.with_key(base.spec_text, "version", str(wanted))
    text, added = unrecognised.prefill(text, request.args)
    return _editor(text, base=base, added=added)


#: What the editor's buttons ask for (its ``action`` field); a form without one saves.
EDITOR_ACTIONS = ("save", "check", "preview")


def _editor_action(
    text: str, base: Problem | None, check: Callable[[], list[authoring.SpecProblem]]
):
    """Save (any error refuses it), Check (list every problem) or Preview the text."""
    action = request.form.get("action", "save")
    if action not in EDITOR_ACTIONS:
        abort(
            400,
            f"Unknown action {printable(action[:40])!r}: choose one of "
            f"{', '.join(EDITOR_ACTIONS)}.",
        )
    if action == "preview":
        return _editor_preview(text, base, _seed(request.form.get("seed", "1")))
    found = check()
    refused = bool(authoring.errors_in(found))
    if action == "check" or refused:
        return _editor(text, found, base, checked=True), (422 if refused else 200)
    if base is None:
        problem = authoring.create(db(), current_user, text, found)
    else:
        problem = authoring.new_version(db(), current_user, base, text, found)
    flash(f"Saved {problem.slug} version {problem.version} as a draft.", "ok")
    for warning in found:
        where = f"line {warning.line}, " if warning.line else ""
        flash(f"Warning ({where}{warning.field or 'the spec'}): {warning.message}", "warning")
    return redirect(url_for("instructor.preview", problem_id=problem.id))


def _editor_preview(text: str, base: Problem | None, seed: int):
    """The unsaved text's variant at ``seed`` under the editor, drawn as a saved one's."""
    token = draft_plots.link_token(current_app.secret_key or "", current_user.id, text, seed)
    try:
        shown = _preview_of(
            text, seed, url_for("instructor.draft_plot", token=token) if token else None
        )
    except authoring.Refused as refused:
        return _editor(text, refused.problems, base, checked=True, seed=seed), 422
    return _editor(text, None, base, shown=shown, seed=seed), (422 if shown.error else 200)


@bp.route("/problems/draft-plot.png")
def draft_plot():
    """The plot of an unsaved spec the editor previewed (its link carries the text)."""
    author_only()
    try:
        text, seed = draft_plots.read_token(
            current_app.secret_key or "", current_user.id, request.args.get("token", "")
        )
    except draft_plots.BadLink as bad:
        abort(400, f"No plot: {bad}.")
    budget = _preview_budget()
    try:
        png = draft_plots.plot_png(text, seed, budget)
    except authoring.Refused as refused:
        abort(422, f"No plot: the spec is not valid: {refused}.")
    except problem_bank.GenerationError as exc:  # over budget, no well-posed draw
        abort(422, f"No plot for seed {seed}: {exc}")
    return _png(png, "This spec draws no plot.", max_age=600)


def _png(png: bytes, none: str, max_age: int) -> Response:
    """A preview's plot; a 404 saying ``none`` when there is no plot (b"")."""
    if not png:
        abort(404, none)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = f"private, max-age={max_age}"
    return response


def _preview_budget() -> float:
    """Seconds a preview (its page or its plot) may spend generating, in this request."""
    return float(current_app.config.get("MIXGRADE_PREVIEW_SECONDS", authoring.PREVIEW_SECONDS))


@bp.route("/docs/authoring")
def authoring_docs():
    """docs/authoring.md as a page, one click from the editor."""
    body = docs_pages.authoring_html()
    if body is None:
        abort(404, "docs/authoring.md is not installed here; read it in the repository.")
    return render_template("teach/docs.html", body=body, title="Authoring problems")


@bp.route("/problems/<int:problem_id>/selftest", methods=["POST"])
def selftest(problem_id: int):
    author_only()
    problem = _problem(problem_id)
    seeds = current_app.config.get("MIXGRADE_SELFTEST_SEEDS", authoring.SELFTEST_SEEDS)
    budget = current_app.config.get("MIXGRADE_SELFTEST_SECONDS", authoring.SELFTEST_SECONDS)
    if authoring.request_selftest(db(), problem, seeds=seeds, budget=budget):
        flash(
            f"Self-test started on {plural(seeds, 'seed')}; this page updates when it is done.",
            "ok",
        )
    else:
        passed = bool(problem.selftest and problem.selftest.get("ok"))
        flash("Self-test passed." if passed else "Self-test failed; see below.", "ok")
    return redirect(url_for("instructor.preview", problem_id=problem.id))


@bp.route("/problems/<int:problem_id>/publish", methods=["POST"])
def publish(problem_id: int):
    author_only()
    problem = _problem(problem_id)
    try:
        authoring.publish(db(), current_user, problem)
    except authoring.Refused as refused:
        flash(str(refused), "error")
        return redirect(url_for("instructor.preview", problem_id=problem.id))
    flash(f"Published {problem.slug} version {problem.version}.", "ok")
    return redirect(url_for("instructor.preview", problem_id=problem.id))


@bp.route("/problems/<int:problem_id>/delete", methods=["POST"])
def delete_problem(problem_id: int):
    """Delete a draft nothing uses, else archive it (authoring.delete_or_archive says why)."""
    author_only()
    problem = _problem(problem_id)
    slug, version = problem.slug, problem.version
    try:
        removed = authoring.delete_or_archive(db(), current_user, problem)
    except authoring.Refused as refused:
        abort(403, f"{str(refused).capitalize()}.")
    if removed == authoring.Removed.deleted:
        flash(f"Deleted {slug} version {version}.", "ok")
        return redirect(url_for("instructor.bank"))
    flash(
        f"Archived {slug} version {version}: it is no longer offered for new assignments; "
        "assignments that use it keep working.",
        "ok",
    )
    return redirect(url_for("instructor.preview", problem_id=problem_id))


def _problem(problem_id: int) -> Problem:
    problem = db().get(Problem, problem_id)
    if problem is None or not authoring.can_see(current_user, problem):
        abort(404, "No such problem.")
    return problem


def _uploaded_text() -> str:
    """The spec from the file input if one was chosen, else from the text area."""
    upload = request.files.get("spec_file")
    if upload is not None and upload.filename:
        raw = upload.read(authoring.MAX_SPEC_BYTES + 1)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "\ufffd"  # parse_spec reports it as not valid YAML
    return request.form.get("spec_text", "")


def _editor(
    text: str,
    found: list[authoring.SpecProblem] | None = None,
    base: Problem | None = None,
    added: unrecognised.Added | None = None,
    *,
    checked: bool = False,
    shown: _Shown | None = None,
    seed: int = 1,
) -> str:
    """The editor page: the text with a numbered gutter, every problem found beside it
    (``checked``: a Check or a refused save ran, so an empty list means none), and the
    preview of the unsaved text when one was asked for."""
    found = found or []
    # The gutter's mark of a line: its worst severity, and what was found there (a tooltip).
    marks: dict[int, tuple[str, str]] = {}
    for problem in found:
        if problem.line:
            severity, said = marks.get(problem.line, (problem.severity, ""))
            worst = "error" if "error" in (severity, problem.severity) else "warning"
            marks[problem.line] = (worst, f"{said}\n{problem.message}".strip())
    return render_template(
        "teach/editor.html",
        text=text,
        found=found,
        marks=marks,
        errors=authoring.errors_in(found),
        checked=checked,
        base=base,
        added=added,
        shown=shown,
        seed=seed,
        starting_points=authoring.starting_points() if base is None else (),
        max_kb=authoring.MAX_SPEC_BYTES // 1024,
    )
