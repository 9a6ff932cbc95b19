import pytest

from governance import policies
from governance.models import CampaignItem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role, allowed", [("compliance", True), ("admin", True), ("manager", False), ("scientist", False)]
)
def test_compliance_dashboard_is_for_compliance_and_admins(make_user, role, allowed):
    assert policies.can_view_compliance_dashboard(make_user(role, username=f"u-{role}")) is allowed


def test_campaign_items_are_attested_by_the_owner_or_compliance_for_ownerless_data(make_user):
    owner, officer, other = (
        make_user("engineer", username="olga"),
        make_user("compliance", username="cleo"),
        make_user("scientist", username="sid"),
    )
    owned, ownerless = CampaignItem(owner=owner), CampaignItem(owner=None)
    assert policies.campaign_attest_refusal(owner, owned) is None
    assert "dataset's owner" in policies.campaign_attest_refusal(officer, owned)
    assert policies.campaign_attest_refusal(officer, ownerless) is None
    assert "compliance attests" in policies.campaign_attest_refusal(other, ownerless)


def test_alerts_are_handled_by_the_models_owners_engineers_and_admins(make_user):
    from tests.factories import RegisteredModelFactory

    owner = make_user("scientist", username="owen")
    model = RegisteredModelFactory(owners=[owner])
    allowed = {
        "owner": owner,
        "engineer": make_user("engineer", username="erin"),
        "admin": make_user("admin", username="adam"),
    }
    refused = {
        "other scientist": make_user("scientist", username="sven"),
        "manager": make_user("manager", username="mona"),
        "compliance": make_user("compliance", username="cleo"),
    }
    assert {who: policies.can_handle_alert(u, model) for who, u in allowed.items()} == dict.fromkeys(
        allowed, True
    )
    assert {who: policies.can_handle_alert(u, model) for who, u in refused.items()} == dict.fromkeys(
        refused, False
    )
