"""`celery -A service.celery_entry:celery_app …`: the configured app for Celery's own CLI (beat)."""

from graders.celery_app import celery_app
from service.config import Settings
from service.worker import prepare

prepare(Settings.from_env())

__all__ = ["celery_app"]
