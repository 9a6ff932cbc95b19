"""gunicorn settings for the portal: ``gunicorn -c python:portal.gunicorn portal.wsgi``.

Garbage collection between requests. A page leaves about a thousand objects in reference cycles (ORM rows
and their caches, template contexts), which only the cyclic collector frees. Left to its thresholds
(portal/wsgi.py), the collector ran inside whichever request crossed them, adding 5-10 ms to one request
in fifteen: it set the p95 of every page in the scale benchmark. Collecting the young generations after
each response is sent costs ~0.3 ms per request, paid while the worker would otherwise wait for the
next one, and a full collection every FULL_EVERY requests keeps the old generation from piling up
until a request triggers it (benchmarks/README.md).
"""

import gc
import itertools
import os

FULL_EVERY = 200

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"

_served = itertools.count(1)


def post_request(worker, req, environ, resp):
    """After the response is written (gunicorn calls this once the client has it)."""
    if next(_served) % FULL_EVERY == 0:
        gc.collect()
    else:
        gc.collect(1)
