import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
application = get_wsgi_application()

# A page builds tens of thousands of short-lived objects (ORM rows, template nodes). With Python's default
# thresholds (700, 10, 10) a full collection ran every few pages and cost 40-120 ms on the request that
# crossed it: at 100k models it set the p95 of whichever page it fell on (the catalog's first page at 2.5x
# its deep page). Collecting young objects less often keeps the same total work off single requests;
# under gunicorn with portal/gunicorn.py they are collected after each response, so a request crosses the
# threshold only if it alone allocates that much (benchmarks/README.md, bench_portal).
gc.set_threshold(20_000, 20, 20)

# Everything loaded at start (Django, the URLconf and every view module it imports) lives as long as the
# process: gc.freeze() keeps full collections from scanning it again and again.
_views = get_resolver().url_patterns  # imports every view module now
gc.freeze()
