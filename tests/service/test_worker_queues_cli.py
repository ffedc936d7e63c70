"""`mixgrade worker --queues`: known queue names only, and what each pool preloads."""

from __future__ import annotations

from click.testing import CliRunner

from graders.celery_app import GRADING_QUEUE, VARIANTS_QUEUE, celery_app
from service.cli import main
from service.worker import preloads


def test_unknown_queue_is_a_usage_error_naming_the_known_ones() -> None:
    result = CliRunner().invoke(main, ["worker", "--queues", "celery,grading"])
    assert result.exit_code == 2
    assert "unknown queue 'grading'; known: celery, variants" in result.output
    assert "Traceback" not in result.output


def test_an_empty_queue_list_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["worker", "--queues", " , "])
    assert result.exit_code == 2 and "name at least one of" in result.output


def test_only_a_variants_pool_preloads_statsmodels() -> None:
    assert "statsmodels.api" not in preloads([GRADING_QUEUE])
    assert "statsmodels.api" in preloads([VARIANTS_QUEUE])
    assert "statsmodels.api" in preloads([GRADING_QUEUE, VARIANTS_QUEUE])


def test_issue_variant_is_routed_to_the_variants_queue_and_grading_is_not() -> None:
    route = celery_app.amqp.router.route
    assert route({}, "mixgrade.issue_variant")["queue"].name == VARIANTS_QUEUE
    assert route({}, "mixgrade.grade_submission")["queue"].name == GRADING_QUEUE
