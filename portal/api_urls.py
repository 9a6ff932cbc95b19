"""Everything under /api/v1/.

LoginRequiredMiddleware would answer an anonymous or token-authenticated API call (a token is read by DRF,
after the middleware) with a 302 to the HTML login page. API views authenticate and authorise themselves
(DRF authentication and permission classes; IsAuthenticated by default) and answer 401/403 in JSON, so
every view here is marked login_not_required once, below, instead of view by view. Only DRF views may be
mounted here: a plain Django view would be left without any login check, so it is refused at start-up.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, include, path, re_path
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.views import APIView

from .security import lockout_response


class ApiNotFound(APIView):
    """Unknown paths under /api/v1/ (e.g. /versions/abc/) get a JSON 404 like unknown objects do."""

    schema = None  # not an endpoint

    def dispatch_not_found(self, request, *args, **kwargs):
        raise NotFound()

    get = post = put = patch = delete = dispatch_not_found


class ObtainToken(ObtainAuthToken):
    """Exchange a username and password for the API token (`Authorization: Token <key>`).

    Throttled like the login page (django-axes): after AXES_FAILURE_LIMIT failures for one username from
    one address, the pair is locked for the cool-off and answered with a JSON 429, right password or not.
    """

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_create",
        responses={
            200: AuthTokenSerializer,
            429: OpenApiResponse(
                inline_serializer(
                    "TokenLockedOut",
                    {
                        "detail": serializers.CharField(),
                        "retry_after_seconds": serializers.IntegerField(),
                        "retry_at": serializers.DateTimeField(),
                    },
                ),
                description="Too many failed attempts for this username from this address.",
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # django-axes flags the DRF request it was handed, which its middleware (looking at the
            # Django request) never sees: answer the lockout here.
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request._request)
            raise


def _api_views_only(patterns: list) -> list:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _api_views_only(pattern.url_patterns)
            continue
        view_class = getattr(pattern.callback, "cls", None)
        if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
            raise ImproperlyConfigured(
                f"{pattern.pattern} under /api/v1/ is not a DRF view; it would be served without login."
            )
        login_not_required(pattern.callback)
    return patterns


urlpatterns = _api_views_only(
    [
        # Username + password -> token; the one API view anonymous clients may call.
        path("auth/token/", ObtainToken.as_view(), name="api-token"),
        path("", include("catalog.api.urls")),
        path("", include("governance.api.urls")),
        path("", include("governance.api.access_urls")),
        # Only paths ending in '/': without the slash, APPEND_SLASH still redirects to the right URL.
        # [\s\S], not ".": a path may hold a newline (%0A), which "." misses (an HTML 404 then).
        re_path(r"^[\s\S]*/$", ApiNotFound.as_view(), name="api-not-found"),
    ]
)
