"""WSGI entry point for the production server.

`granian --interface wsgi service.wsgi:app` (docker-compose.yml). granian rather than
gunicorn: per request it costs about half the CPU on the submit path's scale (a trivial
view: 1.2 ms against 2.0 under gunicorn's threaded workers; benchmarks/README.md).
"""

from service import create_app

app = create_app()
