"""Marshmallow schemas of the REST API: they validate requests and generate the OpenAPI doc.

A schema is named for its component in the OpenAPI document. Where that name is also a
domain class (``Variant``, problem_bank's), the schema carries the suffix ``Schema``, which
apispec strips: ``VariantSchema`` is the document's ``Variant``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from problem_bank import MAX_SPEC_BYTES
from service.routing import MAX_ROW_ID as MAX_ID
from service.services.authoring import BUILTIN_AUTHOR, STATUSES
from service.services.copying import MAX_SHIFT_DAYS
from service.services.problem_transfer import MAX_FILES
from service.services.submissions import MAX_KEY_CHARS


class ProblemDetails(Schema):
    """RFC 9457 problem details: every error the API returns has this shape."""

    type = fields.String(metadata={"description": "A URI naming the kind of problem."})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "What went wrong, precisely."})
    errors = fields.Raw(
        metadata={"description": "Field or part → messages, for validation problems."}
    )


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class _Page(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class User(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "The account's global role."})


class Me(Schema):
    user = fields.Nested(User, required=True)
    token_id = fields.Integer(required=True)
    course_ids = fields.List(
        fields.Integer(),
        allow_none=True,
        required=True,
        metadata={"description": "Courses the token reaches; null means all (admin)."},
    )


class Course(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    role = fields.String(
        allow_none=True, required=True, metadata={"description": "The caller's role here."}
    )


class CoursePage(_Page):
    items = fields.List(fields.Nested(Course), required=True)


class Enrollment(Schema):
    id = fields.Integer(required=True)
    role = fields.String(required=True)
    user = fields.Nested(User, required=True)


class EnrollmentPage(_Page):
    items = fields.List(fields.Nested(Enrollment), required=True)


class EnrollmentCreate(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=255))
    name = fields.String(load_default="", validate=validate.Length(max=255))
    role = fields.String(
        required=True,
        validate=validate.OneOf(["student", "instructor"]),
        metadata={"description": "Required: a default could silently demote an instructor."},
    )


class Problem(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    topic = fields.String(required=True)
    status = fields.String(required=True)
    builtin = fields.Boolean(required=True)


class ProblemListArgs(PageArgs):
    """The bank's filter, as on the web page (``services.authoring.BankFilter``)."""

    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "Only versions with this status; without it, archived versions "
            "are left out."
        },
    )
    topic = fields.String(
        load_default="",
        validate=validate.Length(max=128),
        metadata={"description": "Only this topic (exact)."},
    )
    author = fields.String(
        validate=validate.Regexp(
            rf"^({BUILTIN_AUTHOR}|[1-9][0-9]{{0,9}})$",
            error=f"give a user id or {BUILTIN_AUTHOR!r}",
        ),
        metadata={"description": f"A user id, or {BUILTIN_AUTHOR!r} for the bank's own."},
    )


class ProblemFull(Problem):
    spec = fields.String(required=True, metadata={"description": "The YAML spec text."})
    selftest = fields.Raw(allow_none=True, required=True)


class ProblemPage(_Page):
    items = fields.List(fields.Nested(Problem), required=True)


class ProblemCreate(Schema):
    spec = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64 * 1024),
        metadata={"description": "A problem spec in YAML, validated as in the editor."},
    )


class SpecText(Schema):
    spec = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_SPEC_BYTES),
        metadata={"description": "A problem spec in YAML (nothing is stored)."},
    )


class SpecDiagnostic(Schema):
    line = fields.Integer(allow_none=True, required=True, metadata={"description": "1-based."})
    field = fields.String(
        required=True, metadata={"description": 'Dotted path, e.g. "parts[2].answer".'}
    )
    message = fields.String(
        required=True, metadata={"description": "What is wrong and what to write instead."}
    )
    severity = fields.String(required=True, validate=validate.OneOf(["error", "warning"]))


class SpecDiagnostics(Schema):
    ok = fields.Boolean(required=True, metadata={"description": "No diagnostic is an error."})
    diagnostics = fields.List(
        fields.Nested(SpecDiagnostic),
        required=True,
        metadata={"description": "Every diagnostic, sorted by line."},
    )


class ExportedProblem(Schema):
    filename = fields.String(required=True, metadata={"description": "slug.vN.yaml"})
    slug = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    builtin = fields.Boolean(required=True)
    sha256 = fields.String(required=True, metadata={"description": "Of the spec's UTF-8 bytes."})
    spec = fields.String(required=True, metadata={"description": "The stored text, exactly."})


class ProblemExport(Schema):
    course_id = fields.Integer(required=True)
    problems = fields.List(
        fields.Nested(ExportedProblem),
        required=True,
        metadata={"description": "Every problem version the course's assignments use."},
    )


class ImportFile(Schema):
    """One spec file; other fields (those of an exported problem) are ignored."""

    filename = fields.String(
        required=True,
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Only to name the file in the errors."},
    )
    spec = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SPEC_BYTES))

    class Meta:
        unknown = EXCLUDE


class ProblemImport(Schema):
    files = fields.List(
        fields.Nested(ImportFile),
        required=True,
        validate=validate.Length(min=1, max=MAX_FILES),
        metadata={
            "description": "The spec files; an export's ``problems`` may be sent as they are."
        },
    )


class ImportedProblem(Schema):
    file = fields.String(required=True)
    slug = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "The version here."})
    action = fields.String(
        required=True,
        validate=validate.OneOf(["created", "new version", "unchanged"]),
        metadata={"description": "unchanged: the same text is stored; nothing was added."},
    )
    problem_id = fields.Integer(required=True)


class ProblemImported(Schema):
    items = fields.List(fields.Nested(ImportedProblem), required=True)


class AssignmentItem(Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    points = fields.Float(required=True)
    part_points = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "Points available per part id."},
    )
    archived_at = fields.DateTime(
        allow_none=True,
        required=True,
        metadata={"description": "Set when it was removed while students had submissions."},
    )
    problem = fields.Nested(Problem, required=True)


class Assignment(Schema):
    id = fields.Integer(required=True)
    course_id = fields.Integer(required=True)
    title = fields.String(required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    late_until = fields.DateTime(allow_none=True, required=True)
    attempts_allowed = fields.Integer(required=True)
    late_penalty = fields.Float(required=True)
    practice_allowed = fields.Boolean(required=True)
    score_policy = fields.String(
        required=True, metadata={"description": "Which attempt counts: best, last or average."}
    )
    version = fields.String(
        required=True,
        metadata={
            "description": "The settings' fingerprint; send it back in a PATCH to be "
            "told (409) if someone changed them in between."
        },
    )
    items = fields.List(fields.Nested(AssignmentItem), required=True)


class AssignmentPage(_Page):
    items = fields.List(fields.Nested(Assignment), required=True)


class ItemCreate(Schema):
    problem_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    points = fields.Float(load_default=10.0, validate=validate.Range(min=0.01, max=1000))


_POLICIES = ["best", "last", "average"]


class AssignmentEdit(Schema):
    """The settings to change; fields left out keep their values."""

    title = fields.String(validate=validate.Length(min=1, max=255))
    due_at = fields.AwareDateTime(allow_none=True)
    late_until = fields.AwareDateTime(allow_none=True)
    attempts_allowed = fields.Integer(validate=validate.Range(min=1, max=50))
    late_penalty = fields.Float(validate=validate.Range(min=0, max=1))
    practice_allowed = fields.Boolean()
    score_policy = fields.String(validate=validate.OneOf(_POLICIES))
    version = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "The assignment's ``version`` this edit was made from."},
    )
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class ItemEdit(Schema):
    points = fields.Float(validate=validate.Range(min=0.01, max=1000))
    part_points = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=128)),
        values=fields.Float(validate=validate.Range(min=0, max=1000)),
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Points per part id; parts left out keep theirs."},
    )

    @validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if ("points" in data) == ("part_points" in data):
            raise ValidationError("send either points or part_points", "points")


class ItemOrder(Schema):
    order = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Every active item id of the assignment, in the new order."},
    )


class AssignmentCreate(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    due_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None)
    late_until = fields.AwareDateTime(load_default=None, allow_none=True)
    attempts_allowed = fields.Integer(load_default=3, validate=validate.Range(min=1, max=50))
    late_penalty = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=1))
    practice_allowed = fields.Boolean(load_default=False)
    score_policy = fields.String(load_default="best", validate=validate.OneOf(_POLICIES))
    problems = fields.List(
        fields.Nested(ItemCreate), required=True, validate=validate.Length(min=1, max=50)
    )

    # The dates' order and the title are checked with the forms' rule
    # (teaching.check_settings), in the route.


class AssignmentCopy(Schema):
    """Where to copy an assignment (or all of a course's) to, for the next term."""

    course_id = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "A course the caller teaches."},
    )
    shift_days = fields.Integer(
        load_default=0,
        validate=validate.Range(min=-MAX_SHIFT_DAYS, max=MAX_SHIFT_DAYS),
        metadata={"description": "Move every date by this many days (0: keep them)."},
    )


class AssignmentCopies(Schema):
    items = fields.List(fields.Nested(Assignment), required=True)


class VariantIssueSchema(Schema):
    user_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Whose variant (instructors only); the caller by default."},
    )


class Choice(Schema):
    id = fields.String(required=True)
    label = fields.String(required=True)


MARKDOWN = "Markdown, as the problem's author wrote it (with this variant's numbers)."
AS_HTML = (
    "The same text as the pages show it: Markdown rendered to HTML, raw HTML escaped, "
    "no images, only http(s)/mailto/relative links."
)


class Part(Schema):
    id = fields.String(required=True)
    kind = fields.String(
        required=True,
        metadata={"description": "numeric, choice, multi, table or interval (the registry's)."},
    )
    prompt = fields.String(required=True, metadata={"description": MARKDOWN})
    prompt_html = fields.String(required=True, metadata={"description": AS_HTML})
    weight = fields.Float(required=True)
    points = fields.Float(required=True)
    format_hint = fields.String(required=True)
    precision = fields.String(
        required=True,
        metadata={
            "description": 'What a numeric, table or interval part asks ("Give 3 significant '
            'digits.").'
        },
    )
    choices = fields.List(fields.Nested(Choice), required=True)
    rows = fields.List(fields.String(), required=True)
    columns = fields.List(fields.String(), required=True)
    answer = fields.Raw(
        metadata={"description": "Only once the solution may be shown (or to instructors)."}
    )
    solution = fields.String(metadata={"description": MARKDOWN})
    solution_html = fields.String(metadata={"description": AS_HTML})
    explanation = fields.String(metadata={"description": MARKDOWN})
    explanation_html = fields.String(metadata={"description": AS_HTML})


class VariantFileSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    url = fields.String(required=True)


class VariantSchema(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    item_id = fields.Integer(allow_none=True, required=True)
    problem = fields.String(required=True)
    version = fields.Integer(required=True)
    seed = fields.Integer(
        metadata={
            "description": "Only to the course's instructors (to preview this variant): "
            "with the seed, the public generator rebuilds the reference answers."
        }
    )
    practice = fields.Boolean(required=True)
    title = fields.String(required=True)
    story = fields.String(required=True, metadata={"description": MARKDOWN})
    story_html = fields.String(required=True, metadata={"description": AS_HTML})
    output = fields.String(required=True, metadata={"description": "Model output as R prints it."})
    r_script = fields.String(required=True)
    python_script = fields.String(required=True)
    data_url = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The dataset as CSV; null when the problem has no data."},
    )
    files = fields.List(
        fields.Nested(VariantFileSchema),
        required=True,
        metadata={"description": "Every download the variant offers (none is empty)."},
    )
    plot_url = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The plot of the data as PNG; null when there is none."},
    )
    attempts_left = fields.Integer(allow_none=True, required=True)
    solution_visible = fields.Boolean(required=True)
    parts = fields.List(fields.Nested(Part), required=True)


class SubmissionCreate(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={
            "description": "Part id → answer: a number, a text (choice id or number), "
            "a list of those (multi-select and table parts), [lower, upper] or "
            '{"lower": ..., "upper": ...} (interval parts), or null for no answer.'
        },
    )


class IdempotencyHeader(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        load_default=None,
        # Checked by the submit use case, so that the web form and the API answer alike.
        metadata={
            "description": "Retries with the same key, variant and answers return the first "
            "submission and never use a second attempt; the same key with another variant or "
            f"other answers is a 409, and nothing is stored. At most {MAX_KEY_CHARS} characters.",
            "maxLength": MAX_KEY_CHARS,
        },
    )

    class Meta:
        unknown = "exclude"


class SubmissionAccepted(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    queued = fields.Boolean(required=True)
    status_url = fields.String(required=True)
    detail = fields.String()


class PartFeedback(Schema):
    id = fields.String(required=True)
    score = fields.Float(required=True)
    verdict = fields.String(required=True)
    message = fields.String(required=True)
    misconception = fields.String(allow_none=True)
    hint = fields.String()
    points = fields.Float(allow_none=True)
    points_possible = fields.Float()
    explanation = fields.String(
        metadata={
            "description": "Why the right answer is right, beside a verdict that is not "
            "correct, once the answer key is shown (attempts used up, assignment closed); "
            "empty before that. A correct verdict's message already holds it."
        }
    )
    explanation_html = fields.String(metadata={"description": AS_HTML})


class SubmissionStatus(Schema):
    id = fields.Integer(required=True)
    variant_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    status = fields.String(
        required=True, metadata={"description": "queued, grading, graded or failed."}
    )
    attempt = fields.Integer(required=True)
    score = fields.Float(allow_none=True, required=True)
    is_late = fields.Boolean(required=True)
    practice = fields.Boolean(required=True)
    parts = fields.List(fields.Nested(PartFeedback), required=True)
    points = fields.Float(allow_none=True, required=True)
    points_possible = fields.Float(required=True)
    attempts_left = fields.Integer(allow_none=True, required=True)
    solution_available = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    graded_at = fields.DateTime(allow_none=True, required=True)


class GradebookArgs(Schema):
    """The gradebook page's query string; the same rules read it (services.gradebook.View)."""

    assignment_id = fields.String(
        metadata={"description": "One assignment's problems and total (else the whole course)."}
    )
    show = fields.String(
        metadata={"description": "`problems`: the whole course by problem, not by assignment."}
    )
    sort = fields.String(
        metadata={
            "description": "`name` (default), `email`, `total`, `a<assignment_id>` or "
            "`i<item_id>`; an unknown key sorts by name."
        }
    )
    dir = fields.String(metadata={"description": "`asc` (default) or `desc`."})
    q = fields.String(
        metadata={"description": "Only students whose name or email contains this (≤ 200)."}
    )


class GradeCell(Schema):
    item_id = fields.Integer(required=True)
    points = fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "The points that count (score policy, overrides); null: none."},
    )
    possible = fields.Float(allow_none=True, required=True)
    attempts = fields.Integer(required=True)
    last_submitted_at = fields.DateTime(allow_none=True, required=True)
    late = fields.Boolean(required=True)
    pending = fields.Boolean(required=True)
    overridden = fields.Boolean(required=True)
    exception = fields.Boolean(
        required=True, metadata={"description": "The student has an exception on the assignment."}
    )


class GradeTotal(Schema):
    assignment_id = fields.Integer(required=True)
    points = fields.Float(required=True)
    possible = fields.Float(required=True)


class GradeRow(Schema):
    user = fields.Nested(User, required=True)
    total = fields.Float(required=True)
    assignment_totals = fields.List(fields.Nested(GradeTotal), required=True)
    cells = fields.List(fields.Nested(GradeCell), required=True)


class GradeColumn(Schema):
    item_id = fields.Integer(required=True)
    assignment_id = fields.Integer(required=True)
    label = fields.String(required=True, metadata={"description": "Short, e.g. A2·3."})
    name = fields.String(required=True)
    points = fields.Float(required=True)


class GradeAssignment(Schema):
    assignment_id = fields.Integer(required=True)
    label = fields.String(required=True, metadata={"description": "Short, e.g. A2."})
    title = fields.String(required=True)
    possible = fields.Float(required=True)


class GradebookView(Schema):
    assignment_id = fields.Integer(allow_none=True, required=True)
    sort = fields.String(required=True)
    dir = fields.String(required=True)
    q = fields.String(required=True)


class Grades(Schema):
    course = fields.Nested(Course, required=True)
    view = fields.Nested(GradebookView, required=True)
    assignments = fields.List(fields.Nested(GradeAssignment), required=True)
    columns = fields.List(fields.Nested(GradeColumn), required=True)
    possible = fields.Float(required=True)
    rows = fields.List(fields.Nested(GradeRow), required=True)


class Rounded(fields.Float):
    """A number rounded to ``places`` decimals when dumped (a share, not a measurement)."""

    def __init__(self, places: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.places = places

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else round(float(value), self.places)


# The Unrecognised* schemas dump services.unrecognised's dataclasses as they are.
class UnrecognisedCandidate(Schema):
    id = fields.String(required=True, metadata={"description": "Suggested misconception id."})
    expression = fields.String(
        required=True, metadata={"description": "In the spec vocabulary, ready to paste."}
    )
    label = fields.String(required=True)
    message = fields.String(required=True, metadata={"description": "A draft message."})


class UnrecognisedAnswer(Schema):
    user_id = fields.Integer(required=True)
    variant_id = fields.Integer(required=True)
    value = fields.Float(required=True)
    key = fields.Float(required=True, metadata={"description": "The student's own key."})


class UnrecognisedGroup(Schema):
    label = fields.String(required=True)
    count = fields.Integer(required=True, metadata={"description": "Answers in the group."})
    students = fields.Integer(required=True)
    value = fields.Float(
        allow_none=True, metadata={"description": "A value cluster's value (same key for all)."}
    )
    candidate = fields.Nested(UnrecognisedCandidate, allow_none=True)
    explained = fields.Integer(required=True, metadata={"description": "Answers it explains."})
    share = Rounded(4, required=True)
    also = fields.List(fields.String(), required=True)
    offered = fields.Boolean(
        required=True, metadata={"description": "Explains most of the group: worth adding."}
    )
    answers = fields.List(fields.Nested(UnrecognisedAnswer), required=True)


class UnrecognisedPart(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    answers = fields.Integer(required=True)
    skipped = fields.String(required=True, metadata={"description": "Why not grouped, if not."})
    not_rebuilt = fields.Integer(
        required=True, metadata={"description": "Answers whose variant did not regenerate."}
    )
    unchecked = fields.Integer(
        required=True,
        metadata={"description": "Answers not checked yet (time budget spent): ask again."},
    )
    groups = fields.List(
        fields.Nested(UnrecognisedGroup),
        required=True,
        metadata={"description": "By the candidate that reproduces the answers."},
    )
    clusters = fields.List(
        fields.Nested(UnrecognisedGroup),
        required=True,
        metadata={"description": "Raw value clusters, when every variant has the same key."},
    )


class UnrecognisedItem(Schema):
    item_id = fields.Integer(required=True, attribute="assignment_problem.id")
    problem_id = fields.Integer(required=True, attribute="assignment_problem.problem_id")
    parts = fields.List(fields.Nested(UnrecognisedPart), required=True)


class Unrecognised(Schema):
    assignment_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(UnrecognisedItem), required=True)


# --------------------------------------------------------- one student's work (issue 15)

REASON = "Why: kept in the audit log (and, for an override, shown to the student)."


class OverrideCreate(Schema):
    part_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The part to override; null overrides the whole attempt."},
    )
    points = fields.Float(
        required=True,
        metadata={"description": "From 0 to the part's (or attempt's) possible points."},
    )
    reason = fields.String(required=True, metadata={"description": REASON})


class OverrideDelete(Schema):
    part_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    reason = fields.String(required=True, metadata={"description": REASON})


class ScoreOverride(Schema):
    id = fields.Integer(required=True)
    submission_id = fields.Integer(required=True)
    part_id = fields.String(allow_none=True, required=True)
    points = fields.Float(required=True)
    reason = fields.String(required=True)
    created_by_id = fields.Integer(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class StudentAttemptPart(Schema):
    id = fields.String(required=True)
    answer = fields.Raw(allow_none=True, metadata={"description": "As the student typed it."})
    verdict = fields.String(allow_none=True, required=True)
    message = fields.String(allow_none=True, required=True)
    misconception = fields.String(allow_none=True, required=True)
    points = fields.Float(allow_none=True, required=True)
    points_possible = fields.Float(required=True)
    override = fields.Nested(ScoreOverride, allow_none=True, required=True)


class StudentAttempt(Schema):
    id = fields.Integer(required=True)
    attempt = fields.Integer(required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    graded_at = fields.DateTime(allow_none=True, required=True)
    is_late = fields.Boolean(required=True)
    score = fields.Float(allow_none=True, required=True)
    points = fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "What the attempt counts for, overrides included."},
    )
    override = fields.Nested(
        ScoreOverride, allow_none=True, required=True, metadata={"description": "Whole-attempt."}
    )
    parts = fields.List(fields.Nested(StudentAttemptPart), required=True)


class StudentVersion(Schema):
    number = fields.Integer(required=True)
    variant_id = fields.Integer(required=True)
    replaced_at = fields.DateTime(allow_none=True, required=True)
    possible = fields.Float(required=True)
    attempts = fields.List(fields.Nested(StudentAttempt), required=True)


class StudentException(Schema):
    assignment_id = fields.Integer(required=True)
    user = fields.Nested(User, required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    late_until = fields.DateTime(allow_none=True, required=True)
    extra_attempts = fields.Integer(required=True)
    reason = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(allow_none=True, required=True)


class StudentExceptionList(Schema):
    assignment_id = fields.Integer(required=True)
    exceptions = fields.List(fields.Nested(StudentException), required=True)


class StudentExceptionPut(Schema):
    due_at = fields.DateTime(
        load_default=None, allow_none=True, metadata={"description": "null: the assignment's."}
    )
    late_until = fields.DateTime(
        load_default=None, allow_none=True, metadata={"description": "null: the assignment's."}
    )
    extra_attempts = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100))
    reason = fields.String(required=True, metadata={"description": REASON})


class ReasonBody(Schema):
    reason = fields.String(required=True, metadata={"description": REASON})


class StudentStanding(Schema):
    policy = fields.String(required=True, metadata={"description": "best, last or average."})
    points = fields.Float(allow_none=True, required=True)
    possible = fields.Float(allow_none=True, required=True)
    attempts_used = fields.Integer(required=True)
    attempts_allowed = fields.Integer(required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    late_until = fields.DateTime(allow_none=True, required=True)
    late = fields.Boolean(required=True)
    overridden = fields.Boolean(required=True)
    pending = fields.Boolean(required=True)


class StudentProblem(Schema):
    item_id = fields.Integer(required=True)
    assignment_id = fields.Integer(required=True)
    problem_id = fields.Integer(required=True)
    user = fields.Nested(User, required=True)
    standing = fields.Nested(StudentStanding, required=True)
    exception = fields.Nested(StudentException, allow_none=True, required=True)
    versions = fields.List(fields.Nested(StudentVersion), required=True)


class NewVersionGiven(Schema):
    variant_id = fields.Integer(required=True)
    version = fields.Integer(required=True)


class AuditArgs(Schema):
    student = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    assignment = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class AuditEventSchema(Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    action = fields.String(required=True)
    actor_id = fields.Integer(allow_none=True, required=True)
    student_id = fields.Integer(allow_none=True, required=True)
    assignment_id = fields.Integer(allow_none=True, required=True)
    item_id = fields.Integer(allow_none=True, required=True)
    submission_id = fields.Integer(allow_none=True, required=True)
    before = fields.Raw(allow_none=True, required=True)
    after = fields.Raw(allow_none=True, required=True)
    reason = fields.String(required=True)
    summary = fields.String(allow_none=True, required=True)


class AuditLog(Schema):
    course_id = fields.Integer(required=True)
    events = fields.List(fields.Nested(AuditEventSchema), required=True)
