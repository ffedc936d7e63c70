"""What students do: see their courses, open their own variant of a problem, submit, practise."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from problem_bank import kinds
from problem_bank.kinds import AnswerKind, kind_of
from problem_bank.render import plural
from problem_bank.variant import Part
from service import errors
from service.models import (
    AssignmentProblem,
    Enrollment,
    Role,
    StoredVariant,
    Submission,
    utcnow,
)
from service.services import (
    access,
    answer_checks,
    audit,
    formats,
    standings,
    student_pages,
    submissions,
    variant_files,
    variants,
)
from service.web_db import db, seed_key

bp = Blueprint("student", __name__)

#: How far back the dashboard lists what changed (each course page keeps everything).
CHANGES_DAYS = 14


@bp.route("/")
@login_required
def dashboard():
    enrollments = (
        db().scalars(select(Enrollment).where(Enrollment.user_id == current_user.id)).all()
    )
    learning = [e.course_id for e in enrollments if e.role == Role.student]
    since = utcnow() - timedelta(days=CHANGES_DAYS)
    changes = audit.recently_told(db(), current_user.id, learning, since)
    return render_template(
        "dashboard.html", enrollments=enrollments, changes=changes, changes_days=CHANGES_DAYS
    )


@bp.route("/courses/<int:course_id>")
@login_required
def course(course_id: int):
    enrollment = _enrollment(course_id)
    placed = [ap for a in enrollment.course.assignments for ap in a.assignment_problems]
    mine = standings.standings(db(), placed, [current_user.id])
    rows = [mine[(current_user.id, ap.id)] for ap in placed]
    changes = [
        (assignment, told)
        for assignment in enrollment.course.assignments
        if (told := audit.told_to_students(db(), assignment.id, current_user.id))
    ]
    # Removed problems this student submitted to: "What changed" links to their work.
    removed = [
        ap
        for a in enrollment.course.assignments
        for ap in a.every_assignment_problem
        if ap.archived_at is not None
    ]
    kept = {
        key[1]
        for key, s in standings.standings(db(), removed, [current_user.id]).items()
        if s.attempts
    }
    return render_template(
        "course.html", course=enrollment.course, rows=rows, changes=changes, kept=kept
    )


@bp.route("/items/<int:item_id>")
@login_required
def problem(item_id: int):
    assignment_problem = _assignment_problem_for_student(item_id)
    if assignment_problem.archived_at is None:
        return _render_problem(variants.ensure(db(), seed_key(), current_user, assignment_problem))
    # Removed from the assignment: it opens, read-only, only for a student who submitted.
    variant = variants.find(db(), current_user.id, item_id)
    if variant is None or not student_pages.submissions_of(db(), variant):
        abort(404, "This problem was removed from the assignment.")
    return _render_problem(variant)


@bp.route("/items/<int:item_id>/submit", methods=["POST"])
@login_required
def submit(item_id: int):
    # The hot path of the service: the access check, the variant's parts and the attempts
    # used come from one query, and the variant's dataset is never loaded.
    target = submissions.assignment_problem_target(db(), current_user.id, item_id)
    if target is None:
        abort(404, "No such problem.")
    if not target.enrolled:
        abort(404, "No such course.")
    if target.variant_id is None:  # submitted before the page issued it: issue it now
        variants.ensure(db(), seed_key(), current_user, _assignment_problem_for_student(item_id))
        target = submissions.assignment_problem_target(db(), current_user.id, item_id)
        assert target is not None and target.variant_id is not None
    return _submit(target.target(), practice=False, item_id=item_id)


@bp.route("/items/<int:item_id>/practice", methods=["POST"])
@login_required
def new_practice(item_id: int):
    assignment_problem = _assignment_problem_for_student(item_id)
    if assignment_problem.archived_at is not None:
        abort(404, "This problem was removed from the assignment.")
    if not assignment_problem.assignment.practice_allowed:
        abort(403, "Practice is not open for this assignment.")
    variant = student_pages.new_practice_variant(db(), current_user, assignment_problem)
    return redirect(url_for("student.practice", variant_id=variant.id))


@bp.route("/practice/<int:variant_id>")
@login_required
def practice(variant_id: int):
    return _render_problem(_own_practice_variant(variant_id))


@bp.route("/practice/<int:variant_id>/submit", methods=["POST"])
@login_required
def practice_submit(variant_id: int):
    variant = _own_practice_variant(variant_id)
    return _submit(
        submissions.Target.of_variant(db(), variant),
        practice=True,
        item_id=variant.assignment_problem_id,
    )


@bp.route("/variants/<int:variant_id>/plot.png")
@login_required
def plot(variant_id: int):
    variant = _variant_for_viewer(variant_id)
    try:
        png = variant_files.plot_png(db(), variant)
    except variant_files.PlotUnavailable as error:
        abort(404, str(error))
    response = Response(png, mimetype="image/png")
    # The bytes never change for a variant, but only its owner may see them.
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response


@bp.route("/variants/<int:variant_id>/files/<name>")
@login_required
def download(variant_id: int, name: str):
    variant = _variant_for_viewer(variant_id)
    try:
        body, content_type = variant_files.file_body(variant, name)
    except variant_files.NoSuchFile:
        abort(404, "No such file.")
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-transform"
    return response


@bp.route("/submissions/<int:submission_id>")
@login_required
def submission_status(submission_id: int):
    # The student's own problem page polls this; teachers read work on the teaching pages.
    submission = db().get(Submission, submission_id)
    if submission is None or submission.user_id != current_user.id:
        abort(404, "No such submission.")
    return jsonify(student_pages.status_body(db(), submission))


# ------------------------------------------------------------------------------ helpers


def _render_problem(
    variant: StoredVariant,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
):
    page = student_pages.build(db(), variant)
    practice_list = []
    if page.assignment_problem.assignment.practice_allowed:
        practice_list = student_pages.practice_variants(
            db(), current_user.id, page.assignment_problem.id
        )
    body = render_template(
        "problem.html",
        page=page,
        offered=variant_files.offered(variant),
        plot_text=variant_files.plot_text(variant),
        variant=page.content,
        errors=errors or {},
        invalid=answer_checks.invalid_inputs(page.content["parts"], typed or {}, errors or {}),
        typed=typed if typed is not None else page.last_answers(),
        practice_variants=practice_list,
    )
    return body, 422 if errors else 200


def _submit(target: submissions.Target, *, practice: bool, item_id: int | None):
    """Read the form, run the submit use case, and answer as the page or its script expects."""
    typed = _answers_from_form(target.parts)
    try:
        submission, queued = submissions.submit(
            db(),
            current_user,
            target,
            typed,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except submissions.Unreadable as refused:
        # Nothing is stored and no attempt is used: the student fixes the input and resends.
        if _wants_json():
            return _reply(
                refused, invalid=answer_checks.invalid_inputs(target.parts, typed, refused.errors)
            )
        stored = db().get(StoredVariant, target.variant_id)
        assert stored is not None
        return _render_problem(stored, errors=refused.errors or {"": refused.detail}, typed=typed)
    except submissions.Refused as refused:
        return _reply(refused)
    body = {
        "id": submission.id,
        "status": submission.status.value,
        "queued": queued,
        "status_url": url_for("student.submission_status", submission_id=submission.id),
    }
    if not queued:
        body["detail"] = submissions.GRADING_PAUSED
    if _wants_json():
        return jsonify(body), 202
    if practice:
        return redirect(url_for("student.practice", variant_id=target.variant_id))
    return redirect(url_for("student.problem", item_id=item_id))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _reply(refused: submissions.Refused, invalid: dict[str, list[int]] | None = None):
    """A refused submit: JSON for the page's script, else the error page; never stored.

    ``invalid`` tells the script which inputs to mark, as the page would (see
    ``answer_checks.invalid_inputs``)."""
    if _wants_json():
        body: dict[str, Any] = {"detail": refused.detail, "type": refused.type}
        if refused.errors:
            body["errors"] = refused.errors
        if invalid:
            body["invalid"] = invalid
        return jsonify(body), refused.status, refused.headers()
    message = " ".join([refused.detail, *(f"{k}: {v}" for k, v in refused.errors.items())])
    return errors.respond(refused.status, message, refused.headers())


def _enrollment(course_id: int) -> Enrollment:
    """The current user's enrollment in the course; 404 if none (no leak that it exists)."""
    enrollment = db().scalar(
        select(Enrollment).where(
            Enrollment.user_id == current_user.id, Enrollment.course_id == course_id
        )
    )
    if enrollment is None:
        abort(404, "No such course.")
    return enrollment


def _assignment_problem_for_student(item_id: int) -> AssignmentProblem:
    """The item, if the current user is enrolled in its course; 404 otherwise (no leak)."""
    assignment_problem = db().get(AssignmentProblem, item_id)
    if assignment_problem is None:
        abort(404, "No such problem.")
    _enrollment(assignment_problem.assignment.course_id)
    return assignment_problem


def _own_practice_variant(variant_id: int) -> StoredVariant:
    variant = db().get(StoredVariant, variant_id)
    if variant is None or variant.user_id != current_user.id or not variant.is_practice:
        abort(404, "No such practice version.")
    return variant


def _variant_for_viewer(variant_id: int) -> StoredVariant:
    """The variant, for its owner or an instructor of its course; 404 for anyone else."""
    variant = db().get(StoredVariant, variant_id)
    if variant is None or not access.may_view_variant(db(), current_user, variant):
        abort(404, "No such dataset.")
    return variant


def _answers_from_form(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The form's answers as typed, keyed by part id, each read as its kind reads it.

    Only read here: blanks, lengths and parsing are the submit use case's to judge.
    """
    fields = request.form.to_dict(flat=False)
    return {p["id"]: kind_of(p["kind"]).read_form(fields, f"part-{p['id']}") for p in parts}


# ------------------------------------------------------------------------ template filters


bp.add_app_template_filter(formats.table_time, "when")
bp.add_app_template_filter(formats.points, "pts")


@bp.app_template_filter("points")
def _points(value: float | None) -> str:
    """``1 point``, ``2.5 points``: the points as ``pts`` writes them, and the noun."""
    return plural(formats.points(value), "point")


bp.add_app_template_filter(plural, "plural")


@bp.app_template_filter("precision")
def _precision(part: Part | dict[str, Any]) -> str:
    """The precision a numeric or table part asks for ("Give 3 significant digits.")."""
    return kinds.precision_for(part if isinstance(part, Part) else Part.from_dict(part))


@bp.app_template_filter("kind")
def _kind(part: Part | dict[str, Any]) -> AnswerKind:
    """The part's answer kind: its partial and default format hint, for the templates."""
    return kind_of(part.kind if isinstance(part, Part) else part["kind"])


@bp.app_template_filter("accepted")
def _accepted(part: Part | dict[str, Any]) -> str:
    """What the grader accepts, as the instructor preview states it (the grader's own rule)."""
    return kinds.accepted_text(part if isinstance(part, Part) else Part.from_dict(part))


@bp.app_template_filter("answer")
def _answer(value: Any) -> str:
    """An answer (typed or reference) as short text."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_answer(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
