# One image for the web server, the workers and the migration job.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MIXGRADE_INSTANCE=/var/lib/mixgrade
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY graders ./graders
COPY problem_bank ./problem_bank
COPY migrations ./migrations
COPY docs ./docs
RUN pip install --no-cache-dir . && useradd --system mixgrade \
    && mkdir -p /var/lib/mixgrade && chown mixgrade /var/lib/mixgrade
USER mixgrade
EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--blocking-threads", "4", "--no-ws", "--respawn-failed-workers", "service.wsgi:app"]
