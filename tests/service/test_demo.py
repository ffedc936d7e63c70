"""The demo course: loading it twice changes nothing, and its logins work."""

from sqlalchemy import func, select

from service.models import Assignment, AssignmentProblem, Course, Enrollment, Problem, User
from service.services.demo import load_demo
from tests.conftest import login

TABLES = (User, Course, Enrollment, Problem, Assignment, AssignmentProblem)


def _counts(session) -> dict[str, int]:
    return {t.__name__: session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def test_demo_is_idempotent_and_keeps_passwords(db_session, settings):
    logins_file = settings.instance_dir / "demo-logins.txt"
    first = load_demo(db_session, logins_file)
    counts = _counts(db_session)
    second = load_demo(db_session, logins_file)
    assert _counts(db_session) == counts
    assert first == second
    assert counts["User"] == 4 and counts["Course"] == 1 and counts["Assignment"] == 1
    assert counts["AssignmentProblem"] >= 1
    assert oct(logins_file.stat().st_mode & 0o777) == "0o600"


def test_demo_student_can_log_in(client, db_session, settings):
    logins = load_demo(db_session, settings.instance_dir / "demo-logins.txt")
    student = next(x for x in logins if x.role == "student")
    assert login(client, student.email, student.password).status_code == 302
    assert "STAT-330" in client.get("/").get_data(as_text=True)


def test_lost_logins_file_gets_fresh_working_passwords(client, db_session, settings):
    logins_file = settings.instance_dir / "demo-logins.txt"
    load_demo(db_session, logins_file)
    logins_file.unlink()
    fresh = load_demo(db_session, logins_file)
    student = next(x for x in fresh if x.role == "student")
    assert login(client, student.email, student.password).status_code == 302
