"""A link binds only inside its own LMS course (issue 12, section 2): a launch whose
``custom.assignment_id`` names another course's assignment is refused before anything is
written, so no link row exists and no score of that assignment goes to its line item."""

from __future__ import annotations

from sqlalchemy import func, select

from service.lti import passback
from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    LtiContext,
    LtiIdentity,
    LtiPlatform,
    LtiResourceLink,
    LtiScoreSend,
    Submission,
    SubmissionStatus,
    User,
)
from service.services import variants
from service.services.problems import sync_builtin
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _victim_course(session, platform: Platform) -> tuple[Course, Assignment]:
    """A mixgrade course already mapped to the LMS course 'victim-101', with an assignment."""
    problem = {p.slug: p for p in sync_builtin(session)}["simple_regression"]
    course = Course(code="VICTIM", title="The victim's course")
    assignment = Assignment(course=course, title="Graded homework", attempts_allowed=3)
    registered = session.scalar(select(LtiPlatform))
    session.add_all(
        [
            course,
            assignment,
            AssignmentProblem(assignment=assignment, problem=problem, position=1, points=10),
            LtiContext(
                platform=registered,
                deployment_id=platform.deployment_id,
                context_id="victim-101",
                course=course,
            ),
        ]
    )
    session.commit()
    return course, assignment


def _graded(session, user: User, assignment: Assignment) -> Submission:
    variant = variants.ensure(session, b"binding test key", user, assignment.assignment_problems[0])
    submission = Submission(
        variant=variant,
        user=user,
        attempt_number=1,
        answers={},
        status=SubmissionStatus.graded,
        feedback={"score": 1.0, "parts": []},
        raw_score=1.0,
        score=1.0,
    )
    session.add(submission)
    session.commit()
    return submission


def test_a_launch_naming_another_courses_assignment_writes_nothing(
    tool, platform: Platform, db_session
):
    _course, assignment = _victim_course(db_session, platform)
    # The victim course's student launches their own link: accepted, with its line item.
    platform.context_id = "victim-101"
    own_lineitem = platform.lineitem_url(1)
    own = platform.prepare(
        sub="victim-student",
        roles=[LEARNER],
        resource_link_id="victim-link",
        custom={"assignment_id": str(assignment.id)},
        lineitem=own_lineitem,
    )
    accepted, _ = platform.launch(tool.base_url, own)
    assert accepted.status_code == 302, accepted.text
    before = [
        _count(db_session, model)
        for model in (User, Course, LtiContext, LtiIdentity, LtiResourceLink)
    ]

    # Someone teaching another LMS course points a link of theirs at that assignment.
    platform.context_id = "evil-202"
    foreign = platform.prepare(
        sub="evil-teacher",
        roles=[INSTRUCTOR],
        resource_link_id="evil-link",
        custom={"assignment_id": str(assignment.id)},
        lineitem=platform.lineitem_url(66),
    )
    refused, _ = platform.launch(tool.base_url, foreign)
    assert refused.status_code == 409
    assert "another course" in refused.text
    after = [
        _count(db_session, model)
        for model in (User, Course, LtiContext, LtiIdentity, LtiResourceLink)
    ]
    assert after == before  # no link row, no user, no course: nothing at all
    assert (
        db_session.scalar(
            select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "evil-link")
        )
        is None
    )

    # The victim student's grade goes to their own line item only.
    student = db_session.scalar(
        select(User).join(LtiIdentity).where(LtiIdentity.subject == "victim-student")
    )
    ids = passback.after_graded(db_session, _graded(db_session, student, assignment))
    db_session.commit()
    sent_to = [db_session.get(LtiScoreSend, i).lineitem_url for i in ids]
    assert sent_to == [own_lineitem]
