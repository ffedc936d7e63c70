"""What instructors do (/teach): write and preview problems, build assignments, read the
gradebook and analytics, regrade, and look after one student's work.

One blueprint (``blueprint.bp``, endpoints ``instructor.*``); each module adds the routes of
one job to it, so importing this package registers them all.
"""

from service.instructor import assignments, home, problems, results, students
from service.instructor.blueprint import bp

__all__ = ["assignments", "bp", "home", "problems", "results", "students"]
