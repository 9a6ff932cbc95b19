import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_admin_changelist_renders(client, admin_user):
    client.force_login(admin_user)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


def test_the_audit_trail_is_read_only_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:governance_auditevent_add")).status_code == 403
