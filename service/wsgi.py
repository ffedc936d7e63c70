"""WSGI entry point for the production server.

`granian --interface wsgi service.wsgi:app` (docker-compose.yml). granian rather than
gunicorn's threaded workers: at the same number of processes and threads it took about
6 % less web CPU per submission (four paired runs; benchmarks/README.md, third round),
and its own front end keeps the connections, so a thread is taken only to run the app.
"""

from service import create_app
from service.heap import freeze_startup_heap

app = create_app()
freeze_startup_heap()
