"""Action routes declared with portal.routes keep their paths, names and methods."""

from django.urls import resolve, reverse

from governance import access_views, views
from governance.api import views as api_views


def test_form_actions_post_to_the_page_view_naming_the_action():
    url = reverse("governance:work-item-comment", kwargs={"key": "PERS-1"})
    assert url == "/work/PERS-1/comments/"  # the segment differs from the action
    match = resolve(url)
    assert match.func.view_class is views.WorkItemDetailView
    assert match.kwargs == {"key": "PERS-1", "action": "comment"}
    assert match.func.view_initkwargs["http_method_names"] == ["post"]
    alert = resolve(reverse("governance-access:alert-resolve", kwargs={"pk": 7}))
    assert alert.func.view_class is access_views.AlertDetailView and alert.kwargs["action"] == "resolve"


def test_form_action_routes_refuse_get(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("gus"))
    assert client.get(reverse("governance:promotion-approve", kwargs={"pk": 1})).status_code == 405


def test_api_actions_route_each_action_to_its_own_view():
    match = resolve(reverse("governance-api:promotion-retry-apply", kwargs={"pk": 3}))
    assert match.route == "api/v1/promotions/<int:pk>/retry-apply/"
    assert match.func.view_class is api_views.PromotionRetryApplyApi
    assert match.kwargs == {"pk": 3}
