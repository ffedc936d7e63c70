"""WSGI entry point for the production server.

`granian --interface wsgi service.wsgi:app` (docker-compose.yml). granian rather than
gunicorn: its own cost per request is about half of gunicorn's threaded workers' (a
trivial view: 1.2 against 2.0 ms of CPU), which took the submit path from 4.8–5.9 to
4.4–5.1 ms of web CPU per submission (benchmarks/README.md, third round).
"""

from service import create_app

app = create_app()
