"""factory_boy factories. Models are created through plain ORM rows, then the denormalised fields
(latest version, search document) are refreshed through the same services production uses."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from catalog.models import (
    Dataset,
    Domain,
    MetricPoint,
    ModelOwner,
    ModelVersion,
    OwnerRole,
    RegisteredModel,
    RegistryKind,
    RegistrySource,
    Team,
    VersionDataset,
    VersionMetric,
)
from catalog.services import model_search_refresh
from catalog.services.models import model_refresh_version_stats
from portal.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-Modelhouse-1")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        role = kwargs.pop("role", Role.SCIENTIST)
        user = super()._create(model_class, *args, **kwargs)
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.set([group])
        if role == Role.ADMIN:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        return user


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Domain {n}")
    slug = factory.LazyAttribute(lambda d: d.name.lower().replace(" ", "-"))
    key = factory.Sequence(lambda n: f"D{n:03d}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.LazyAttribute(lambda t: t.name.lower().replace(" ", "-"))
    domain = factory.SubFactory(DomainFactory)


class RegistrySourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegistrySource

    name = factory.Sequence(lambda n: f"registry-{n}")
    kind = RegistryKind.MLFLOW
    base_url = "http://127.0.0.1:5000"


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    uri = factory.Sequence(lambda n: f"s3://lake/datasets/ds{n}")
    name = factory.Sequence(lambda n: f"dataset_{n}")
    description = "Daily snapshot."
    last_updated_at = factory.LazyFunction(timezone.now)


class RegisteredModelFactory(factory.django.DjangoModelFactory):
    """Build with owners=[user, ...] and tags=["a", "b"]; versions are added with ModelVersionFactory."""

    class Meta:
        model = RegisteredModel
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"model-{n:04d}")
    domain = factory.SubFactory(DomainFactory)
    description = "Predicts things *well*."
    intended_use = "Ranking."
    limitations = "Cold start."
    ethical_considerations = "None known."
    primary_metric = "auc"

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        from catalog.models import Tag

        for name in extracted or []:
            obj.tags.add(Tag.objects.get_or_create(name=name)[0])

    @factory.post_generation
    def owners(obj, create, extracted, **kwargs):
        for user in extracted or []:
            ModelOwner.objects.get_or_create(model=obj, user=user, role=OwnerRole.TECHNICAL)
        model_search_refresh(model_ids=[obj.pk])


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion
        skip_postgeneration_save = True

    model = factory.SubFactory(RegisteredModelFactory)
    version = factory.Sequence(lambda n: str(n + 1))
    sequence = factory.LazyAttribute(lambda v: int(v.version) if v.version.isdigit() else 0)
    created_at = factory.LazyFunction(timezone.now)
    created_by = "sara"
    run_id = factory.Faker("hexify", text="^" * 32)
    code_commit = factory.Faker("sha1")
    code_repository = "https://git.example.com/ds/models"
    hyperparameters = factory.LazyFunction(lambda: {"learning_rate": 0.05, "max_depth": 6})

    @factory.post_generation
    def refresh(obj, create, extracted, **kwargs):
        model_refresh_version_stats(model=obj.model)


def add_metric(version: ModelVersion, key: str, values: list[float]) -> VersionMetric:
    """A metric series over steps 0..n-1; the summary holds the last value."""
    MetricPoint.objects.bulk_create(
        [MetricPoint(version=version, key=key, step=i, value=v) for i, v in enumerate(values)]
    )
    return VersionMetric.objects.create(
        version=version, key=key, value=values[-1], step=len(values) - 1, point_count=len(values)
    )


def link_dataset(version: ModelVersion, dataset: Dataset, role: str = "training") -> VersionDataset:
    return VersionDataset.objects.create(version=version, dataset=dataset, role=role, digest="sha256:abc")
