"""What instructors do: write and preview problems, build assignments, read the gradebook
and analytics, regrade.

Who may come in is decided in services.access: the pages are open to whoever teaches a
course (by enrollment, as an LMS launch makes them) or has a site instructor account;
every course route checks the enrollment in that course; writing problems in the shared
bank needs the site role."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

import problem_bank
from problem_bank.generate import check_seed
from problem_bank.render import plural
from service import docs_pages, gradebook_cells
from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    Problem,
    ProblemStatus,
    ScorePolicy,
    Submission,
)
from service.request_input import printable
from service.routing import row_id
from service.services import (
    access,
    analytics,
    assignment_editing,
    audit,
    authoring,
    copying,
    draft_plots,
    exception_editing,
    gradebook,
    new_versions,
    overrides,
    regrade,
    scoring,
    student_detail,
    student_terms,
    teaching,
    unrecognised,
    variant_files,
)
from service.web_db import db, seed_key

bp = Blueprint("instructor", __name__, url_prefix="/teach")


@bp.before_request
@login_required
def _instructors_only():
    if not access.may_teach(db(), current_user):
        abort(403, "This page is for instructors.")


@bp.app_context_processor
def _teaching_nav() -> dict[str, object]:
    """``may_teach()`` for the header: called only on pages that draw the nav."""
    return {"may_teach": lambda: access.may_teach(db(), current_user)}


def _author_only() -> None:
    """Writing in the bank publishes to every course, so it needs the site role."""
    if not access.is_author(current_user):
        abort(
            403,
            "Writing problems for the shared bank needs a mixgrade instructor account; "
            "teaching a course from the LMS lets you build assignments from published "
            "problems. An admin can give you the instructor role.",
        )


# --------------------------------------------------------------------------------- home


@bp.route("/")
def home():
    return render_template(
        "teach/home.html",
        courses=teaching.courses_taught(db(), current_user),
        can_author=access.is_author(current_user),
    )


@bp.route("/courses/<int:course_id>")
def course(course_id: int):
    course = _course(course_id)
    newer = {
        assignment_problem.id: regrade.newer_version(db(), assignment_problem)
        for a in course.assignments
        for assignment_problem in a.assignment_problems
    }
    return render_template(
        "teach/course.html",
        course=course,
        copy_targets=_copy_targets(course.id),
        newer=newer,
        students=teaching.students(db(), course),
        failures=teaching.grading_problems(db(), course),
    )


# --------------------------------------------------------------------------- problem bank


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
    _author_only()
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
    _author_only()
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
    _author_only()
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
    _author_only()
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
    _author_only()
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
    _author_only()
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


# ---------------------------------------------------------------------------- assignments


@bp.route("/courses/<int:course_id>/assignments/new", methods=["GET", "POST"])
def new_assignment(course_id: int):
    course = _course(course_id)
    problems = teaching.publishable(db())
    errors: dict[str, str] = {}
    if request.method == "POST":
        draft, errors = teaching.read_assignment_form(request.form)
        allowed = {p.id for p in problems}
        if any(pid not in allowed for pid, _ in draft.problems):
            errors["problems"] = "Only published problems can be used."
        if not errors:
            assignment = teaching.create_assignment(db(), course, draft)
            flash("Assignment created. Set points per part below if you like.", "ok")
            return redirect(url_for("instructor.assignment", assignment_id=assignment.id))
    status = 422 if errors else 200
    return render_template(
        "teach/assignment_new.html",
        course=course,
        problems=problems,
        policies=_policies(),
        errors=errors,
        form=request.form,
    ), status


@bp.route("/assignments/<int:assignment_id>")
def assignment(assignment_id: int):
    return _assignment_page(_assignment(assignment_id))


def _assignment_page(
    assignment: Assignment,
    errors: dict[str, str] | None = None,
    form: Any = None,
    status: int = 200,
):
    """The assignment with its edit forms; ``form`` refills the settings after an error."""
    session = db()
    active = assignment.assignment_problems
    parts = {ap.id: teaching.parts_of(ap.problem) for ap in active}
    shares = {ap.id: teaching.default_part_points(ap) for ap in active}
    settings = teaching.AssignmentSettings.of(assignment)
    return render_template(
        "teach/assignment.html",
        assignment=assignment,
        parts=parts,
        shares=shares,
        submitted={ap.id: assignment_editing.has_submissions(session, ap) for ap in active},
        copy_targets=_copy_targets(assignment.course_id),
        problems=teaching.publishable(session),
        policies=_policies(),
        errors=errors or {},
        form=form if form is not None else _settings_form(settings),
        marker=assignment_editing.settings_marker(assignment),
    ), status


def _policies() -> list[tuple[str, str]]:
    return [(policy.value, scoring.POLICY_WORDS[policy]) for policy in ScorePolicy]


def _settings_form(settings: teaching.AssignmentSettings) -> dict[str, str]:
    """The edit form's fields as the browser sends them (dates for datetime-local)."""

    def local(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""

    return {
        "title": settings.title,
        "due_at": local(settings.due_at),
        "late_until": local(settings.late_until),
        "late_penalty": f"{settings.late_penalty * 100:g}",
        "attempts_allowed": str(settings.attempts_allowed),
        "practice_allowed": "on" if settings.practice_allowed else "",
        "score_policy": settings.score_policy.value,
    }


@bp.route("/assignments/<int:assignment_id>/edit", methods=["POST"])
def edit_assignment(assignment_id: int):
    assignment = _assignment(assignment_id)
    settings = teaching.AssignmentSettings.of(assignment)
    errors = teaching.read_settings(request.form, settings)
    if errors:
        return _assignment_page(assignment, errors, request.form, 422)
    try:
        event = assignment_editing.edit_settings(
            db(), assignment, current_user, settings, marker=request.form.get("version")
        )
    except assignment_editing.EditRefused as refused:
        db().rollback()
        return _assignment_page(
            assignment, refused.errors or {"": refused.detail}, request.form, refused.status
        )
    flash("Settings saved." if event else "Nothing changed.", "ok")
    if event and event.summary:
        flash(f"Students are told: {event.summary}", "ok")
    return redirect(url_for("instructor.assignment", assignment_id=assignment.id))


@bp.route("/assignments/<int:assignment_id>/problems", methods=["POST"])
def add_assignment_problem(assignment_id: int):
    assignment = _assignment(assignment_id)
    problem_id = row_id(request.form.get("problem_id"))
    try:
        points = teaching.read_points(request.form.get("points"), 10, zero_allowed=False)
        if problem_id is None:
            raise assignment_editing.EditRefused("Choose a published problem.")
        added = assignment_editing.add_problem(db(), assignment, current_user, problem_id, points)
    except ValueError:
        return _refused(assignment, "points", teaching.POSITIVE_POINTS)
    except assignment_editing.EditRefused as refused:
        return _refused(assignment, "add", refused.detail, refused.status)
    flash(f"Added {added.problem.title}.", "ok")
    return redirect(url_for("instructor.assignment", assignment_id=assignment.id))


@bp.route("/items/<int:item_id>/remove", methods=["POST"])
def remove_assignment_problem(item_id: int):
    assignment_problem = _assignment_problem(item_id)
    assignment, title = assignment_problem.assignment, assignment_problem.problem.title
    try:
        archived = assignment_editing.remove_problem(db(), assignment_problem, current_user)
    except assignment_editing.EditRefused as refused:
        return _refused(assignment, "", refused.detail, refused.status)
    flash(
        f"Archived {title}: students' submissions to it are kept."
        if archived
        else f"Removed {title}.",
        "ok",
    )
    return redirect(url_for("instructor.assignment", assignment_id=assignment.id))


@bp.route("/items/<int:item_id>/move", methods=["POST"])
def move_assignment_problem(item_id: int):
    assignment_problem = _assignment_problem(item_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400, "Move a problem up or down.")
    try:
        assignment_editing.move(db(), assignment_problem, current_user, step)
    except assignment_editing.EditRefused as refused:
        return _refused(assignment_problem.assignment, "order", refused.detail, refused.status)
    return redirect(
        url_for("instructor.assignment", assignment_id=assignment_problem.assignment_id)
    )


@bp.route("/assignments/<int:assignment_id>/order", methods=["POST"])
def reorder_assignment(assignment_id: int):
    """The order form: a position number typed beside each problem."""
    assignment = _assignment(assignment_id)
    placed: list[tuple[float, int]] = []
    for ap in assignment.every_assignment_problem:
        raw = request.form.get(f"position-{ap.id}")
        if raw is None:
            continue
        try:
            position = float(raw)
            if not math.isfinite(position):
                raise ValueError(raw)
        except ValueError:
            return _refused(assignment, "order", "Positions are numbers.", 400)
        placed.append((position, ap.id))
    order = [item_id for _, item_id in sorted(placed)]
    try:
        assignment_editing.reorder(db(), assignment, current_user, order)
    except assignment_editing.EditRefused as refused:
        return _refused(assignment, "order", refused.detail, refused.status)
    flash("New order saved.", "ok")
    return redirect(url_for("instructor.assignment", assignment_id=assignment.id))


@bp.route("/assignments/<int:assignment_id>/copy", methods=["POST"])
def copy_assignment(assignment_id: int):
    """Copy the assignment (problems, points, settings; no student work) into a course
    the user teaches."""
    assignment = _assignment(assignment_id)
    target, shift_days = _copy_form()
    copy = copying.copy_assignment(db(), assignment, target, shift_days)
    flash(f"Copied {assignment.title} into {target.code}.", "ok")
    return redirect(url_for("instructor.assignment", assignment_id=copy.id))


@bp.route("/courses/<int:course_id>/copy-assignments", methods=["POST"])
def copy_course_assignments(course_id: int):
    """Copy every assignment of the course into another course the user teaches."""
    source = _course(course_id)
    target, shift_days = _copy_form()
    copies = copying.copy_course_assignments(db(), source, target, shift_days)
    flash(f"Copied {plural(len(copies), 'assignment')} into {target.code}.", "ok")
    return redirect(url_for("instructor.course", course_id=target.id))


def _copy_targets(course_id: int) -> list[Course]:
    """The courses a copy may go to: the others this user teaches."""
    return [c for c in teaching.courses_taught(db(), current_user) if c.id != course_id]


def _copy_form() -> tuple[Course, int]:
    """The target course (403 unless the user teaches it) and the days to shift by."""
    target_id = row_id(request.form.get("course_id"))
    if target_id is None:
        abort(400, "Choose the course to copy into.")
    target = db().get(Course, target_id)
    if target is None or not access.teaches(db(), current_user, target_id):
        abort(403, "You can copy only into a course you teach.")
    try:
        shift_days = copying.read_shift_days(request.form.get("shift_days"))
    except ValueError as error:
        abort(400, f"{str(error).capitalize()}.")
    return target, shift_days


@bp.route("/items/<int:item_id>/points", methods=["POST"])
def part_points(item_id: int):
    """Points per part, or (with a ``points`` field) the problem's total, which the parts
    then share by weight."""
    assignment_problem = _assignment_problem(item_id)
    try:
        if "points" in request.form:
            total = _total_points(request.form.get("points"))
            assignment_editing.set_points(db(), assignment_problem, current_user, points=total)
        else:
            assignment_editing.set_points(
                db(), assignment_problem, current_user, part_form=request.form
            )
    except assignment_editing.EditRefused as refused:
        db().rollback()
        flash("; ".join(f"{k or 'points'}: {v}" for k, v in refused.errors.items()), "error")
    else:
        title, worth = assignment_problem.problem.title, plural(assignment_problem.points, "point")
        flash(f"Points saved: {title} is worth {worth}.", "ok")
    return redirect(
        url_for("instructor.assignment", assignment_id=assignment_problem.assignment_id)
    )


def _total_points(text: str | None) -> float:
    try:
        if not (text or "").strip():
            raise ValueError("no points given")
        return teaching.read_points(text, 10, zero_allowed=False)
    except ValueError as error:
        message = teaching.POSITIVE_POINTS
        raise assignment_editing.EditRefused(message, {"points": message}) from error


def _refused(assignment: Assignment, field: str, message: str, status: int = 422):
    """An edit that was not made: the assignment page again, the message by the form."""
    db().rollback()
    db().refresh(assignment)
    return _assignment_page(assignment, {field: message}, None, status)


# ---------------------------------------------------------------- gradebook and analytics


@bp.route("/courses/<int:course_id>/gradebook")
def gradebook_page(course_id: int):
    """The gradebook as the query string asks (see gradebook.View): bookmarkable, no JS."""
    course = _course(course_id)
    book = _gradebook(course)
    return render_template(
        "teach/gradebook.html",
        book=book,
        cells=gradebook_cells.CellWriter(
            book.columns if book.shows_problems else [],
            book.groups,
            items_url=url_for("instructor.home") + "items/",
            page_url=url_for("instructor.gradebook_page", course_id=course.id),
        ),
    )


@bp.route("/courses/<int:course_id>/gradebook.csv")
def gradebook_csv(course_id: int):
    course = _course(course_id)
    book = _gradebook(course)
    body = gradebook.to_csv(book)
    response = Response(body, content_type="text/csv; charset=utf-8")
    part = f"-{_file_safe(book.groups[0].label)}" if book.view.assignment_id else ""
    response.headers["Content-Disposition"] = (
        f'attachment; filename="gradebook-{_file_safe(course.code)}{part}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _gradebook(course: Course) -> gradebook.Gradebook:
    try:
        return gradebook.build(db(), course, gradebook.View.from_args(request.args))
    except gradebook.BadView as error:
        abort(400, str(error))


@bp.route("/items/<int:item_id>/analytics")
def assignment_problem_analytics(item_id: int):
    assignment_problem = _assignment_problem(item_id)
    return render_template(
        "teach/analytics.html",
        assignment_problem=assignment_problem,
        stats=analytics.for_assignment_problem(db(), assignment_problem),
    )


@bp.route("/assignments/<int:assignment_id>/unrecognised")
def unrecognised_answers(assignment_id: int):
    """Wrong answers no misconception named, grouped, with candidates to add."""
    assignment = _assignment(assignment_id)
    return render_template(
        "teach/unrecognised.html",
        assignment=assignment,
        reports=unrecognised.for_assignment(db(), assignment),
        editable=lambda problem: (
            access.is_author(current_user) and authoring.can_edit(current_user, problem)
        ),
        may_author=access.is_author(current_user),
        editor_query=unrecognised.editor_query,
    )


@bp.route("/items/<int:item_id>/regrade", methods=["POST"])
def regrade_assignment_problem(item_id: int):
    assignment_problem = _assignment_problem(item_id)
    count, sent = regrade.regrade_assignment_problem(db(), assignment_problem)
    message = f"Regrading {plural(count, 'submission')} of {assignment_problem.problem.title}."
    if sent < count:
        message += f" {count - sent} will be sent when the queue is back."
    flash(message, "ok")
    return redirect(url_for("instructor.course", course_id=assignment_problem.assignment.course_id))


@bp.route("/items/<int:item_id>/switch-version", methods=["POST"])
def switch_version(item_id: int):
    assignment_problem = _assignment_problem(item_id)
    newer = regrade.newer_version(db(), assignment_problem)
    if newer is None:
        abort(409, "There is no newer published version.")
    regrade.switch_version(db(), assignment_problem, newer)
    flash(
        f"New variants of this item now use version {newer.version}; "
        "variants already issued keep theirs.",
        "ok",
    )
    return redirect(url_for("instructor.course", course_id=assignment_problem.assignment.course_id))


# ------------------------------------------------------------------ one student's work


@bp.route("/items/<int:item_id>/students/<int:user_id>")
def student_problem(item_id: int, user_id: int):
    """A gradebook cell opened: the student's dataset, output, plot and every attempt."""
    return _student_page(_assignment_problem(item_id), user_id)


@bp.route("/submissions/<int:submission_id>/overrides", methods=["POST"])
def override_points(submission_id: int):
    form = request.form
    return _change_override(
        submission_id,
        lambda submission: overrides.set_override(
            db(),
            current_user,
            submission,
            form.get("part_id") or None,
            form.get("points"),
            form.get("reason"),
        ),
        "Override saved; the student sees it with your reason.",
    )


@bp.route("/submissions/<int:submission_id>/overrides/remove", methods=["POST"])
def remove_override(submission_id: int):
    form = request.form
    return _change_override(
        submission_id,
        lambda submission: overrides.remove_override(
            db(), current_user, submission, form.get("part_id") or None, form.get("reason")
        ),
        "Override removed; the grader's points count again.",
    )


@bp.route("/items/<int:item_id>/students/<int:user_id>/new-version", methods=["POST"])
def new_version(item_id: int, user_id: int):
    assignment_problem = _assignment_problem(item_id)
    try:
        new_versions.give(
            db(), seed_key(), current_user, assignment_problem, user_id, request.form.get("reason")
        )
    except overrides.Refused as refused:
        db().rollback()
        if refused.status == 404:
            abort(404, refused.message)
        return _student_page(assignment_problem, user_id, refused)
    db().commit()
    flash("New version given: the student now sees a new dataset.", "ok")
    return _back_to_student(assignment_problem, user_id)


@bp.route("/assignments/<int:assignment_id>/exceptions")
def exceptions(assignment_id: int):
    return _exceptions_page(_assignment(assignment_id))


@bp.route("/assignments/<int:assignment_id>/exceptions/<int:user_id>", methods=["POST"])
def set_exception(assignment_id: int, user_id: int):
    assignment = _assignment(assignment_id)
    terms, reason, errors = exception_editing.read_form(request.form)
    back_item = request.form.get("item_id", type=row_id)
    try:
        if errors:
            raise overrides.Refused("; ".join(errors.values()))
        exception_editing.set_exception(db(), current_user, assignment, user_id, terms, reason)
    except overrides.Refused as refused:
        db().rollback()
        return _exception_refused(assignment, user_id, back_item, refused)
    db().commit()
    flash("Exception saved.", "ok")
    return _after_exception(assignment, user_id, back_item)


@bp.route("/assignments/<int:assignment_id>/exceptions/<int:user_id>/remove", methods=["POST"])
def remove_exception(assignment_id: int, user_id: int):
    assignment = _assignment(assignment_id)
    back_item = request.form.get("item_id", type=row_id)
    try:
        exception_editing.remove_exception(
            db(), current_user, assignment, user_id, request.form.get("reason")
        )
    except overrides.Refused as refused:
        db().rollback()
        return _exception_refused(assignment, user_id, back_item, refused)
    db().commit()
    flash("Exception removed: the assignment's own dates and attempts apply.", "ok")
    return _after_exception(assignment, user_id, back_item)


@bp.route("/courses/<int:course_id>/audit")
def audit_log(course_id: int):
    """Who changed what for whom, and why; filtered by ?student= and ?assignment=."""
    course = _course(course_id)
    student_id = request.args.get("student", type=row_id)
    assignment_id = request.args.get("assignment", type=row_id)
    events = audit.for_course(db(), course.id, student_id=student_id, assignment_id=assignment_id)
    return render_template(
        "teach/audit.html",
        course=course,
        events=events,
        students=teaching.students(db(), course),
        student_id=student_id,
        assignment_id=assignment_id,
        problems={ap.id: ap for a in course.assignments for ap in a.every_assignment_problem},
        assignments={a.id: a for a in course.assignments},
    )


# ------------------------------------------------------------------------------ helpers


def _student_page(
    assignment_problem: AssignmentProblem,
    user_id: int,
    refused: overrides.Refused | None = None,
):
    try:
        detail = student_detail.build(db(), assignment_problem, user_id)
    except LookupError:
        abort(404, "No such student in this course.")
    current = detail.current
    return render_template(
        "teach/student_problem.html",
        detail=detail,
        offered=variant_files.offered(current.variant) if current else None,
        plot_text=variant_files.plot_text(current.variant) if current else "",
        preview=variant_files.preview(current.variant) if current else None,
        error=refused.message if refused else None,
        problems={assignment_problem.id: assignment_problem},
    ), (refused.status if refused else 200)


def _change_override(submission_id: int, change: Callable[[Submission], object], done: str):
    """Run an override use case on the submission: back to the student's page, or the page
    again with the refusal's message and status."""
    submission, assignment_problem = _submission(submission_id)
    try:
        change(submission)
    except overrides.Refused as refused:
        db().rollback()
        return _student_page(assignment_problem, submission.user_id, refused)
    db().commit()
    flash(done, "ok")
    return _back_to_student(assignment_problem, submission.user_id)


def _back_to_student(assignment_problem: AssignmentProblem, user_id: int):
    return redirect(
        url_for("instructor.student_problem", item_id=assignment_problem.id, user_id=user_id)
    )


def _submission(submission_id: int) -> tuple[Submission, AssignmentProblem]:
    """A counted submission of a course the current user teaches; 404 otherwise."""
    submission = db().get(Submission, submission_id)
    assignment_problem = submission.variant.assignment_problem if submission else None
    if submission is None or assignment_problem is None:
        abort(404, "No such submission.")
    _course(assignment_problem.assignment.course_id)
    return submission, assignment_problem


@bp.app_template_filter("audit_value")
def _audit_value(value: object) -> str:
    """An audit event's before or after, as short text ("points: 6, reason: …")."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {_audit_value(v)}" for k, v in value.items())
    return str(value)


def _exceptions_page(assignment: Assignment, refused: overrides.Refused | None = None):
    return render_template(
        "teach/exceptions.html",
        assignment=assignment,
        students=(people := teaching.students(db(), assignment.course)),
        granted=student_terms.for_assignments(db(), [assignment.id], [u.id for u in people]),
        error=refused.message if refused else None,
        form=request.form if refused else {},
    ), (refused.status if refused else 200)


def _exception_refused(
    assignment: Assignment, user_id: int, back_item: int | None, refused: overrides.Refused
):
    if refused.status == 404:
        abort(404, refused.message)
    item = db().get(AssignmentProblem, back_item) if back_item else None
    if item is not None and item.assignment_id == assignment.id:
        return _student_page(item, user_id, refused)
    return _exceptions_page(assignment, refused)


def _after_exception(assignment: Assignment, user_id: int, back_item: int | None):
    item = db().get(AssignmentProblem, back_item) if back_item else None
    if item is not None and item.assignment_id == assignment.id:
        return _back_to_student(item, user_id)
    return redirect(url_for("instructor.exceptions", assignment_id=assignment.id))


def _course(course_id: int) -> Course:
    """The course if the current user teaches it; 404 otherwise (no leak that it exists)."""
    course = db().get(Course, course_id)
    if course is None or not access.teaches(db(), current_user, course_id):
        abort(404, "No such course.")
    return course


def _assignment(assignment_id: int) -> Assignment:
    """The assignment if the current user teaches its course; 404 otherwise."""
    assignment = db().get(Assignment, assignment_id)
    if assignment is None:
        abort(404, "No such assignment.")
    _course(assignment.course_id)
    return assignment


def _assignment_problem(item_id: int) -> AssignmentProblem:
    assignment_problem = db().get(AssignmentProblem, item_id)
    if assignment_problem is None:
        abort(404, "No such problem in an assignment.")
    _course(assignment_problem.assignment.course_id)
    return assignment_problem


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


def _file_safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:40] or "course"
