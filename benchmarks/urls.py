"""The portal's URLs plus the benchmark floor (never part of the product's URLs)."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/floor/", views.floor, name="bench-floor"),
    path("", include("portal.urls")),
]
