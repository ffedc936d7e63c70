"""The data model. Tables are created and changed only by Alembic migrations."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    student = "student"
    instructor = "instructor"
    admin = "admin"


class SubmissionStatus(enum.StrEnum):
    queued = "queued"
    grading = "grading"
    graded = "graded"
    failed = "failed"


class ProblemStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    #: Withdrawn by its author: not offered for new assignments, still working in those
    #: that use it (see services.authoring.delete_or_archive).
    archived = "archived"


class ScorePolicy(enum.StrEnum):
    """Which of a student's attempts at a problem counts (see services/scoring.counted)."""

    best = "best"
    last = "last"
    average = "average"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native ENUM type) so adding a value needs no DDL.
    return Enum(kind, name=name, native_enum=False, validate_strings=True, length=16)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"), default=Role.student)
    #: None for users who only ever arrive through an LMS launch.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Part of every login session's id (see get_id); raising it ends all of them at once.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="user")

    # Flask-Login's protocol, kept here so the model needs no mixin from the web layer.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """The session id, ``<id>:<session epoch>``: what Flask-Login keeps in the session (and
        would keep in a remember cookie), so a session is valid only while the epoch holds.
        """
        return f"{self.id}:{self.session_epoch}"

    def end_sessions(self) -> None:
        """End every login session of this user, on every device, at the next flush.

        Incremented in SQL, so two concurrent ends (or an end racing a login) never undo
        each other.
        """
        self.session_epoch = User.session_epoch + 1


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="course")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="course", order_by="Assignment.id"
    )


class Enrollment(Base):
    """A user's membership of a course, with their role in that course."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "enrollment_role"))

    user: Mapped[User] = relationship(back_populates="enrollments")
    course: Mapped[Course] = relationship(back_populates="enrollments")


class Problem(Base):
    """One version of a problem spec. Editing a problem adds a row; rows never change."""

    __tablename__ = "problems"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(128), default="")
    spec_text: Mapped[str] = mapped_column(Text)
    status: Mapped[ProblemStatus] = mapped_column(
        _enum(ProblemStatus, "problem_status"), default=ProblemStatus.draft
    )
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The last self-test report of this version (``{"passed": bool, ...}``); publish needs it.
    selftest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    selftest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assignment(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=3)
    #: Fraction of the score taken off a late submission (0.1 = 10 %).
    late_penalty: Mapped[float] = mapped_column(Float, default=0.0)
    practice_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Late work (with the penalty) is accepted until then; after it, and after ``due_at``
    #: when this is None, the assignment is closed and worked solutions are shown.
    late_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    score_policy: Mapped[ScorePolicy] = mapped_column(
        _enum(ScorePolicy, "score_policy"), default=ScorePolicy.best, server_default="best"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    course: Mapped[Course] = relationship(back_populates="assignments")
    #: The problems students see, in order: archived ones (removed after students had
    #: submitted) are left out. Read-only; rows are added through ``every_assignment_problem``
    #: or with ``AssignmentProblem(assignment=...)``.
    assignment_problems: Mapped[list[AssignmentProblem]] = relationship(
        primaryjoin="and_(Assignment.id == AssignmentProblem.assignment_id, "
        "AssignmentProblem.archived_at.is_(None))",
        order_by="AssignmentProblem.position",
        viewonly=True,
    )
    #: Every problem ever placed, archived ones included (their submissions are kept).
    every_assignment_problem: Mapped[list[AssignmentProblem]] = relationship(
        back_populates="assignment", order_by="AssignmentProblem.id"
    )


class AssignmentProblem(Base):
    """A problem (one fixed version) placed in an assignment, with its points.

    In code it is an ``assignment_problem``, never an "item" (a word LTI uses for line
    items and content items). Only the interfaces that named it before say item and keep
    doing so: URLs (``/items/<item_id>``), JSON keys and route parameters (``item_id``),
    the API's ``AssignmentItem`` and ``ItemCreate`` schemas, form field names.
    """

    __tablename__ = "assignment_problems"
    __table_args__ = (UniqueConstraint("assignment_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"))
    position: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float, default=10.0)
    #: Optional points per part id; parts not listed share the rest by their weights.
    part_points: Mapped[dict[str, float] | None] = mapped_column(JSON)
    #: Set when the problem was removed after students had submitted: it leaves the
    #: assignment (and its position, which becomes -id) but no submission is deleted.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    assignment: Mapped[Assignment] = relationship(back_populates="every_assignment_problem")
    problem: Mapped[Problem] = relationship()


class StoredVariant(Base):
    """A student's own version of a problem: the stored dataset and reference answers.

    The row that stores a ``problem_bank.Variant`` (the domain object), hence the name;
    the table is ``variants``. ``content`` is ``problem_bank.Variant.to_dict()`` as issued.
    It is never changed, so what the student downloaded stays what they are graded
    against, even in a regrade.
    """

    __tablename__ = "variants"
    __table_args__ = (
        Index("ix_variants_user_item", "user_id", "assignment_problem_id"),
        UniqueConstraint("user_id", "problem_id", "seed", "is_practice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"))
    assignment_problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignment_problems.id", ondelete="CASCADE")
    )
    #: 63 bits (see services/variants.py: SEED_BITS): no offline search of every seed.
    seed: Mapped[int] = mapped_column(BigInteger)
    is_practice: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When an instructor gave the student a new version (a new dataset) instead: the row
    #: and its submissions stay, unchanged, and the newest unreplaced one is current.
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()
    problem: Mapped[Problem] = relationship()
    assignment_problem: Mapped[AssignmentProblem | None] = relationship()


class Submission(Base):
    """One attempt at a variant. Saved before it is queued; graded exactly once."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        # Attempt numbers are given out by the database: of two concurrent submits that
        # read the same count, the second insert fails here instead of storing a duplicate.
        # Its index also serves every lookup by variant (it leads with variant_id).
        UniqueConstraint("variant_id", "attempt_number", name="uq_submissions_variant_attempt"),
        Index("ix_submissions_status_queued_at", "status", "queued_at"),
        # Partial: holds only the few rows a failed publish left behind, so the frequent
        # resend finds them, or finds that there are none, in one cheap lookup.
        Index(
            "ix_submissions_unpublished",
            "id",
            sqlite_where=text("unpublished_at IS NOT NULL"),
            postgresql_where=text("unpublished_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    attempt_number: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[SubmissionStatus] = mapped_column(
        _enum(SubmissionStatus, "submission_status"), default=SubmissionStatus.queued
    )
    #: Weighted score in [0, 1] before any late penalty.
    raw_score: Mapped[float | None] = mapped_column(Float)
    #: Score after the late penalty: what the gradebook shows.
    score: Mapped[float | None] = mapped_column(Float)
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Why grading failed for good, for the instructor; students see only the status.
    failure_reason: Mapped[str | None] = mapped_column(Text)
    #: How many times the submission was handed to the queue (first send and re-queues).
    enqueue_count: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    #: SHA-256 of the normalised answers: a resent key must come with the same answers.
    answers_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When a send to the broker failed (it was down); None once the row is handed to it.
    unpublished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    variant: Mapped[StoredVariant] = relationship()
    user: Mapped[User] = relationship()


class AssignmentException(Base):
    """One student's own terms on an assignment (an accommodation, an illness).

    A None date means the assignment's own; ``extra_attempts`` adds to its allowance.
    Read through services/student_terms.py, the one place the terms are combined.
    """

    __tablename__ = "assignment_exceptions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    extra_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ScoreOverride(Base):
    """An instructor's points for one part of an attempt, or for the whole attempt.

    The graded submission is left as it was; the override is counted on top of it by
    services/scoring.earned. One current override per (submission, part), and one for the
    whole attempt (``part_id`` None); the audit log keeps every earlier value.
    """

    __tablename__ = "score_overrides"
    __table_args__ = (
        Index(
            "uq_score_overrides_part",
            "submission_id",
            "part_id",
            unique=True,
            sqlite_where=text("part_id IS NOT NULL"),
            postgresql_where=text("part_id IS NOT NULL"),
        ),
        Index(
            "uq_score_overrides_attempt",
            "submission_id",
            unique=True,
            sqlite_where=text("part_id IS NULL"),
            postgresql_where=text("part_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    part_id: Mapped[str | None] = mapped_column(String(64))
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    submission: Mapped[Submission] = relationship()


class AuditEvent(Base):
    """Who changed what, when, from what to what, and why: edits, overrides, exceptions.

    ``summary`` is the sentence a student may read (on their assignment's page) when the
    change concerns them or the whole assignment; None for what only instructors see.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_course", "course_id", "id"),
        Index("ix_audit_events_assignment", "assignment_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE")
    )
    assignment_problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignment_problems.id", ondelete="SET NULL")
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    student: Mapped[User | None] = relationship(foreign_keys=[student_id])
    assignment: Mapped[Assignment | None] = relationship()


class VariantPlot(Base):
    """The PNG of a variant's plot, drawn once: what the student saw never changes."""

    __tablename__ = "variant_plots"

    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True
    )
    png: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginTries(Base):
    """Password tries in the current window for one account or one client address.

    One counter row per key, reserved with an atomic upsert before a password is checked,
    so concurrent requests can never check more passwords than the limit allows.
    """

    __tablename__ = "login_tries"
    __table_args__ = (Index("ix_login_tries_window_started_at", "window_started_at"),)

    #: "email:<address>" or "ip:<address>".
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    tries: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ------------------------------------------------------------------------------ LMS (issue 6)


class ApiToken(Base):
    """A bearer token for the REST API. Only the SHA-256 of the secret is stored.

    A token acts as its user, narrowed to ``courses`` when any are listed (no rows means
    every course the user belongs to). Revoking stamps ``revoked_at``; rows stay for audit.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255), default="")
    #: Hex SHA-256 of the whole token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, so a person can tell tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    courses: Mapped[list[Course]] = relationship(secondary="api_token_courses")


class ApiTokenCourse(Base):
    """One course a token is scoped to."""

    __tablename__ = "api_token_courses"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )


class LtiKey(Base):
    """Our RSA key pair for signing LTI messages and service-token requests.

    The private key lives in the database (never in the repository); the public half is
    published at /lti/jwks under ``kid``. The newest active key signs. A rotated key
    (``mixgrade lti rotate-key``) no longer signs (its private half is erased) but stays
    published until ``published_until``, because platforms cache our JWKS.
    """

    __tablename__ = "lti_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When a rotation replaced this key (it has not signed since); None while it signs.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: A retired key is in /lti/jwks until then, so tokens it signed still verify.
    published_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LtiPlatform(Base):
    """An LMS registered with us: who it is (issuer + client id) and where its services are."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    issuer: Mapped[str] = mapped_column(String(512))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    jwks_url: Mapped[str] = mapped_column(String(1024))
    #: Audience for the service-token JWT when the platform wants one other than the token URL.
    token_audience: Mapped[str | None] = mapped_column(String(1024))
    #: Let a first launch take the local account with the same email (never an admin's).
    #: Off unless an admin turns it on for a platform that asserts verified emails.
    link_by_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Web origins the LMS shows its pages on, beyond those of its issuer and login URL
    #: (Canvas: the school's https://school.instructure.com). They may frame our LTI pages
    #: and receive Deep Linking responses; see ``platforms.web_origins``.
    extra_origins: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="platform", order_by="LtiDeployment.id"
    )


class LtiDeployment(Base):
    """A deployment id the platform may launch with; launches with any other are refused."""

    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))

    platform: Mapped[LtiPlatform] = relationship(back_populates="deployments")


class LtiLoginState(Base):
    """One OIDC login: the state we handed out and the nonce the id_token must carry.

    ``used_at`` makes each state and nonce good for exactly one launch. A state alone does
    not say *which browser* may spend it (whoever holds an id_token and its state could
    post them from another browser: login CSRF), so the browser that started the login
    proves itself at the launch: with the login cookie, whose SHA-256 is ``browser_hash``,
    or, where the cookie was blocked and the platform offered client-side storage
    (``storage_target``), with the continuation token (SHA-256 in ``continuation_hash``)
    rendered only into that browser's check page. Rows older than the lifetime are purged.
    """

    __tablename__ = "lti_login_states"
    #: The purge deletes by age on every login: a range scan, not a table scan.
    __table_args__ = (Index("ix_lti_login_states_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(128), unique=True)
    nonce: Mapped[str] = mapped_column(String(128), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    storage_target: Mapped[str | None] = mapped_column(String(64))
    continuation_hash: Mapped[str | None] = mapped_column(String(64))

    platform: Mapped[LtiPlatform] = relationship()


class LtiIdentity(Base):
    """The platform's user id (``sub``) → our user."""

    __tablename__ = "lti_identities"
    __table_args__ = (UniqueConstraint("platform_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    platform: Mapped[LtiPlatform] = relationship()
    user: Mapped[User] = relationship()


class LtiContext(Base):
    """The platform's course (context) → our course, with its roster service URL."""

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    memberships_url: Mapped[str | None] = mapped_column(String(1024))
    lineitems_url: Mapped[str | None] = mapped_column(String(1024))
    roster_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    platform: Mapped[LtiPlatform] = relationship()
    course: Mapped[Course] = relationship()


class LtiContextMember(Base):
    """A person known to be in an LMS course: they launched from it or its roster lists them.

    Scores go only to line items of the LMS courses a student is in, even when one
    mixgrade course (and assignment) is placed in several LMS courses.
    """

    __tablename__ = "lti_context_members"
    __table_args__ = (UniqueConstraint("context_row_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_row_id: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    context: Mapped[LtiContext] = relationship()
    user: Mapped[User] = relationship()


class LtiResourceLink(Base):
    """A link placed in the LMS: which assignment it opens and which line item it grades."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("platform_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    context_row_id: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="SET NULL")
    )
    #: The line item (grade column) scores go to: from the launch's AGS claim, or found or
    #: created by the tool through the line-item service (``service.lti.lineitems``).
    lineitem_url: Mapped[str | None] = mapped_column(String(1024))
    #: The AGS scopes the platform granted in the last launch.
    ags_scopes: Mapped[list[str] | None] = mapped_column(JSON)
    #: When a worker started finding or creating the line item; it is the only one that may
    #: until the claim goes stale, so two racing sends never create two grade columns.
    lineitem_claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    platform: Mapped[LtiPlatform] = relationship()
    context: Mapped[LtiContext] = relationship()
    assignment: Mapped[Assignment | None] = relationship()


class ScoreSendStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class LtiScoreSend(Base):
    """One score posted (or to be posted) to a platform's line item: what, when, and how it went.

    Written in the grading transaction, so a score is never lost between grading and
    sending; the Celery task retries with backoff until the platform takes it.
    """

    __tablename__ = "lti_score_sends"
    __table_args__ = (
        Index("ix_lti_score_sends_status", "status"),
        Index("ix_lti_score_sends_submission", "submission_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(
        ForeignKey("lti_resource_links.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The graded submission that triggered this send (a regrade may trigger another).
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL")
    )
    #: None until the worker has found or created the link's line item.
    lineitem_url: Mapped[str | None] = mapped_column(String(1024))
    #: The AGS score object exactly as posted.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ScoreSendStatus] = mapped_column(
        _enum(ScoreSendStatus, "score_send_status"), default=ScoreSendStatus.pending
    )
    tries: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    resource_link: Mapped[LtiResourceLink] = relationship()
    user: Mapped[User] = relationship()
