from django.contrib import admin

from .models import (
    Dataset,
    Domain,
    ModelAlias,
    ModelOwner,
    ModelVersion,
    RegisteredModel,
    RegistrySource,
    Tag,
    Team,
    VersionDataset,
    VersionMetric,
)


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "slug"]
    search_fields = ["name", "key"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "domain"]
    search_fields = ["name"]
    list_select_related = ["domain"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(RegistrySource)
class RegistrySourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "base_url", "is_enabled", "poll_seconds"]
    list_filter = ["kind", "is_enabled"]


class OwnerInline(admin.TabularInline):
    model = ModelOwner
    extra = 0
    autocomplete_fields = ["user"]


class AliasInline(admin.TabularInline):
    model = ModelAlias
    extra = 0
    raw_id_fields = ["version"]


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "lifecycle", "version_count", "next_retrain_due", "updated_at"]
    list_filter = ["lifecycle", "domain"]
    search_fields = ["name"]
    list_select_related = ["domain"]
    autocomplete_fields = ["tags"]
    raw_id_fields = ["latest_version"]
    readonly_fields = ["version_count", "latest_version", "next_retrain_due", "created_at", "updated_at"]
    inlines = [OwnerInline, AliasInline]


class MetricInline(admin.TabularInline):
    model = VersionMetric
    extra = 0


class DatasetLinkInline(admin.TabularInline):
    model = VersionDataset
    extra = 0
    raw_id_fields = ["dataset"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "status", "training_reason", "created_at"]
    list_filter = ["status", "training_reason"]
    search_fields = ["model__name", "version", "run_id"]
    list_select_related = ["model"]
    raw_id_fields = ["model", "parent"]
    inlines = [MetricInline, DatasetLinkInline]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "uri", "sensitivity", "owner", "last_updated_at"]
    list_filter = ["sensitivity", "domain"]
    search_fields = ["name", "uri"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
