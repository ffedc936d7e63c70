"""Recording scores for the LMS: what after_graded writes, and when it writes again."""

from __future__ import annotations

from sqlalchemy import select

from service.lti import passback, platforms
from service.models import (
    LtiContext,
    LtiContextMember,
    LtiIdentity,
    LtiResourceLink,
    LtiScoreSend,
    Submission,
    SubmissionStatus,
    User,
)
from service.services import student_pages, variants
from tests.api.conftest import build_api_world


def _graded(session, world, score: float, student: User | None = None) -> Submission:
    """A graded submission of ``student`` (Alice by default) for the world's one problem."""
    alice = student or world.users["alice"]
    variant = variants.ensure(session, b"passback test key", alice, world.item)
    parts = [p["id"] for p in variant.content["parts"]]
    submission = Submission(
        variant=variant,
        user=alice,
        attempt_number=1 + len(student_pages.submissions_of(session, variant)),
        answers={},
        status=SubmissionStatus.graded,
        feedback={
            "score": score,
            "parts": [
                {"id": p, "score": score, "verdict": "correct", "message": ""} for p in parts
            ],
        },
        raw_score=score,
        score=score,
    )
    session.add(submission)
    session.commit()
    return submission


def lms_platform(session):
    """The test LMS, registered with one deployment ("d1")."""
    return platforms.register(
        session,
        issuer="https://lms.test",
        client_id="c1",
        auth_login_url="https://lms.test/auth",
        auth_token_url="https://lms.test/token",
        jwks_url="https://lms.test/jwks",
        deployment_ids=["d1"],
    )


def _linked_world(session):
    world = build_api_world(session)
    platform = lms_platform(session)
    _placed(session, world, platform, "ctx", "alice", "rl", "https://lms.test/lineitems/1")
    return world


def _placed(session, world, platform, context_id, student, link_id, lineitem_url) -> None:
    """The assignment placed in one LMS course, with ``student`` launched from it."""
    context = LtiContext(
        platform=platform, deployment_id="d1", context_id=context_id, course=world.course
    )
    session.add_all(
        [
            context,
            LtiIdentity(platform=platform, subject=f"lms-{student}", user=world.users[student]),
            LtiContextMember(context=context, user=world.users[student]),
            LtiResourceLink(
                platform=platform,
                context=context,
                resource_link_id=link_id,
                assignment=world.assignment,
                lineitem_url=lineitem_url,
            ),
        ]
    )
    session.commit()


def test_a_graded_submission_records_the_assignment_total_once(db_session):
    world = _linked_world(db_session)
    submission = _graded(db_session, world, 1.0)
    [send_id] = passback.after_graded(db_session, submission.id)
    db_session.commit()
    row = db_session.get(LtiScoreSend, send_id)
    assert row.payload["userId"] == "lms-alice"
    assert row.payload["scoreGiven"] == 10 and row.payload["scoreMaximum"] == 10
    assert row.payload["gradingProgress"] == "FullyGraded"
    assert row.lineitem_url == "https://lms.test/lineitems/1"
    # Graded again with the same result (a duplicate run): nothing new to send.
    assert passback.after_graded(db_session, submission) == []
    # A regrade that changes the score sends the new total (a regrade stores the new
    # feedback and, by scoring.stored_scores, the new score: the total reads the score).
    submission.feedback = {**submission.feedback, "parts": [
        {**p, "score": 0.5} for p in submission.feedback["parts"]
    ]}  # fmt: skip
    submission.raw_score = submission.score = 0.5
    db_session.commit()
    [again] = passback.after_graded(db_session, submission)
    db_session.commit()
    assert db_session.get(LtiScoreSend, again).payload["scoreGiven"] == 5


def test_students_without_an_lms_identity_send_nothing(db_session):
    world = _linked_world(db_session)
    db_session.execute(LtiIdentity.__table__.delete())
    db_session.commit()
    assert passback.after_graded(db_session, _graded(db_session, world, 1.0)) == []
    assert db_session.scalars(select(LtiScoreSend)).all() == []


def test_a_score_goes_only_to_the_lms_courses_the_student_is_in(db_session):
    """One assignment placed in two LMS courses (two sections mapped to one mixgrade course):
    Alice launched from the first only, so the second course's gradebook gets nothing."""
    world = _linked_world(db_session)
    platform = db_session.scalar(select(LtiContext)).platform
    _placed(db_session, world, platform, "ctx-2", "bob", "rl-2", "https://lms.test/lineitems/2")
    ids = passback.after_graded(db_session, _graded(db_session, world, 1.0))
    db_session.commit()
    assert [db_session.get(LtiScoreSend, i).lineitem_url for i in ids] == [
        "https://lms.test/lineitems/1"
    ]
