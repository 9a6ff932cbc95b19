from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import oidc
from .views import health

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    # Single sign-on (OpenID Connect): always mounted, 404 while OIDC_RP_CLIENT_ID is unset.
    path("oidc/", include(oidc.urlpatterns)),
    path("api/v1/", include("portal.api_urls")),
    # The schema authenticates like the API (token or session, 401 in JSON); the docs page is for people.
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    # The split view serves its start-up script from ?script (same URL, same login), not inline: CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("governance.urls")),
    path("", include("governance.access_urls")),
    path("", include("catalog.urls")),
]
