"""Server-side timing for the portal benchmark: how long Django took and how many SQL statements it ran."""

import time

from django.db import connections


class ServerTimingMiddleware:
    """Adds `Server-Timing: app;dur=<ms>` and `X-Bench-Queries: <n>` to every response.

    The time covers the rest of the middleware, the view and the template (a TemplateResponse is rendered
    before the response comes back here); the count covers every statement on every database alias.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = [0]

        def counting(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        wrappers = [connections[alias].execute_wrapper(counting) for alias in connections]
        started = time.perf_counter()
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={elapsed_ms:.3f}"
        response["X-Bench-Queries"] = str(count[0])
        return response
