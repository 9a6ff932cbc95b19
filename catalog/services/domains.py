from django.db import transaction
from django.utils.text import slugify

from .. import policies
from ..models import Domain, Team


@transaction.atomic
def domain_create(*, actor, name: str, key: str, description: str = "") -> Domain:
    policies.require(policies.can_manage_domains(actor), "Only admins manage domains.")
    domain = Domain(name=name.strip(), slug=slugify(name), key=key.strip().upper(), description=description)
    domain.full_clean()
    domain.save()
    return domain


@transaction.atomic
def domain_update(
    *, actor, domain: Domain, name: str | None = None, description: str | None = None
) -> Domain:
    """Rename or re-describe a domain. A rename refreshes its models' search index in the background."""
    policies.require(policies.can_manage_domains(actor), "Only admins manage domains.")
    renamed = name is not None and name.strip() != domain.name
    if name is not None:
        domain.name = name.strip()
    if description is not None:
        domain.description = description
    domain.full_clean()
    domain.save()
    if renamed:
        from ..tasks import models_search_refresh

        model_ids = list(domain.models.values_list("id", flat=True))
        transaction.on_commit(lambda: models_search_refresh.delay(model_ids))
    return domain


@transaction.atomic
def team_create(*, actor, name: str, domain: Domain | None = None, members=()) -> Team:
    policies.require(policies.can_manage_domains(actor), "Only admins manage teams.")
    team = Team(name=name.strip(), slug=slugify(name), domain=domain)
    team.full_clean()
    team.save()
    if members:
        team.members.set(members)
    return team
