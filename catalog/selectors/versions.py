import hashlib
import math
from collections import defaultdict
from collections.abc import Callable
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple, TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, FloatField, Func, Max, Prefetch, Sum
from django.shortcuts import get_object_or_404

from .. import policies
from ..charts import MAX_POINTS, lttb
from ..models import MetricPoint, ModelAlias, ModelVersion, VersionDataset, VersionMetric
from ._dates import as_text, parse_timestamp

# The cache key changes whenever a series does (see metric_history_sampled); the timeout only frees
# the series of versions nobody opens any more.
HISTORY_CACHE_TIMEOUT = 7 * 24 * 3600
T = TypeVar("T")


def _children() -> Prefetch:
    """A version's children, which pages and the API show as links (model name and version) only."""
    links = ModelVersion.objects.select_related("model").only("version", "parent", "model", "model__name")
    return Prefetch("children", queryset=links)


def _version_detail_queryset(*, user):
    return (
        policies.scope(ModelVersion.objects.all(), user)
        .select_related("model", "model__domain", "parent", "parent__model")
        .prefetch_related(
            "metrics",
            Prefetch("aliases", queryset=ModelAlias.objects.all()),
            Prefetch(
                "dataset_links", queryset=VersionDataset.objects.select_related("dataset", "dataset__owner")
            ),
            _children(),
        )
    )


def version_detail(*, user, model_name: str, version: str) -> ModelVersion:
    return get_object_or_404(_version_detail_queryset(user=user), model__name=model_name, version=version)


def version_core(*, user, model_name: str, version: str) -> ModelVersion:
    """The version with its model and domain, nothing more: the version page's metric history part."""
    return get_object_or_404(
        policies.scope(ModelVersion.objects.all(), user).select_related("model", "model__domain"),
        model__name=model_name,
        version=version,
    )


def version_by_id(*, user, pk: int) -> ModelVersion:
    """The same loading as version_detail, addressed by primary key (the API's version URLs)."""
    return get_object_or_404(_version_detail_queryset(user=user), pk=pk)


def version_for_lineage(*, user, model, version: str) -> ModelVersion:
    """One version of `model` (already loaded and visible to `user`) with what version_lineage() reads and
    nothing else: the model page draws the lineage of one version and shows none of its metrics."""
    found = get_object_or_404(
        policies.scope(ModelVersion.objects.all(), user)
        .select_related("parent", "parent__model")
        .prefetch_related(
            Prefetch("aliases", queryset=ModelAlias.objects.all()),
            Prefetch("dataset_links", queryset=VersionDataset.objects.select_related("dataset")),
            _children(),
        ),
        model=model,
        version=version,
    )
    found.model = model
    return found


def version_lineage(*, version: ModelVersion) -> dict:
    """Inputs and outputs of one version, from the relations version_detail loaded (no extra queries)."""
    links = list(version.dataset_links.all())
    return {
        "version": version,
        "training": [link for link in links if link.role == "training"],
        "evaluation": [link for link in links if link.role == "evaluation"],
        "code": {"commit": version.code_commit, "repository": version.code_repository}
        if version.code_commit
        else None,
        "parent": version.parent,
        "children": list(version.children.all()),
        "aliases": [a.alias for a in version.aliases.all()],
    }


def metric_values_across_versions(*, model) -> dict[str, list[dict]]:
    """For each metric key, its final value per version in version order (one query).

    The result is kept on the `model` instance: the model page's charts and its monitoring section both
    draw from it, and for a 1,000-version model reading it twice cost a query and ~10 ms. Callers must
    not change it; a fresh instance (the next request) reads again."""
    cached = model.__dict__.get("_metric_values_across_versions")
    if cached is not None:
        return cached
    rows = (
        VersionMetric.objects.filter(version__model=model)
        .order_by("version__sequence", "version_id")
        .values_list("key", "value", "version__version", as_text("version__created_at"))
    )
    series: dict[str, list[dict]] = defaultdict(list)
    for key, value, label, created_at in rows:
        series[key].append({"version": label, "value": value, "created_at": parse_timestamp(created_at)})
    result = model.__dict__["_metric_values_across_versions"] = dict(sorted(series.items()))
    return result


# Charts of a model's metric values are cached under a fingerprint of the values; the timeout bounds how long
# figures built by an earlier release of the chart code can be served.
ACROSS_VERSIONS_CACHE_TIMEOUT = 3600
_MISSING = object()


class _Epoch(Func):
    """A datetime as seconds since 1970 (a float), for fingerprints: PostgreSQL and SQLite."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="(julianday(%(expressions)s) * 86400.0)", **extra_context
        )


def metric_values_fingerprint(*, model) -> str | None:
    """A digest of what metric_values_across_versions() returns for `model`, computed by the database (one
    query, kept on the instance like the values): per metric key the number of values, their sum, their sum
    weighted by version id, and the sums of sequence x version id and of creation time x version id. An
    added, removed or rewritten value, a version reordered or moved in time changes it (a change below the
    last bits of the float sums aside, which no chart could show); a version's label never changes.

    None (do not cache) when a sum is not finite: a NaN or infinite value keeps it so whatever else changes.
    ~3 ms for a 1,000-version model, where reading the values costs ~6 ms and charting them ~5 ms more."""
    if "_metric_values_fingerprint" in model.__dict__:
        return model.__dict__["_metric_values_fingerprint"]
    rows = list(
        VersionMetric.objects.filter(version__model=model)
        .values("key")
        .annotate(
            n=Count("id"),
            total=Sum("value"),
            weighted=Sum(F("value") * F("version_id"), output_field=FloatField()),
            placed=Sum(F("version__sequence") * F("version_id")),
            dated=Sum(_Epoch("version__created_at") * F("version_id"), output_field=FloatField()),
        )
        .order_by("key")
        .values_list("key", "n", "total", "weighted", "placed", "dated")
    )
    finite = _all_finite(x for row in rows for x in (row[2], row[3], row[5]))
    digest = _digest((model.pk, rows)) if finite else None
    model.__dict__["_metric_values_fingerprint"] = digest
    return digest


def metric_values_derived(*, model, name: str, params: tuple, derive: Callable[[dict], T]) -> T:
    """`derive(metric_values_across_versions(model=model))`, cached for ACROSS_VERSIONS_CACHE_TIMEOUT under
    the values' fingerprint, `name` (what is derived) and `params` (whatever else the result depends on):
    the model page's charts of a 1,000-version model took ~10 ms to read and build. The values are read
    only when the result is not cached (or the fingerprint is None); `derive` must not change them."""
    fingerprint = metric_values_fingerprint(model=model)
    if fingerprint is None:
        return derive(metric_values_across_versions(model=model))
    cache_key = f"catalog:across-versions:{model.pk}:{fingerprint}:{_digest((name, params))}"
    result = cache.get(cache_key, _MISSING)
    if result is _MISSING:
        result = derive(metric_values_across_versions(model=model))
        cache.set(cache_key, result, timeout=ACROSS_VERSIONS_CACHE_TIMEOUT)
    return result


def metric_history(*, version: ModelVersion) -> dict[str, list[tuple[int, float]]]:
    """Each metric's points over steps for one version (one query); charts downsample long series."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for key, step, value in (
        MetricPoint.objects.filter(version=version)
        .order_by("key", "step")
        .values_list("key", "step", "value")
    ):
        series[key].append((step, value))
    return dict(series)


class SampledHistory(NamedTuple):
    """A version's metric histories as its page charts them (metric_history_sampled)."""

    points: dict[str, list[tuple[int, float]]]  # per key, step order; an LTTB sample if longer than the limit
    totals: dict[str, int]  # per key, how many points the full series has


def metric_history_sampled(*, version: ModelVersion, limit: int = MAX_POINTS) -> SampledHistory:
    """Each metric's history over steps as charted: a series of more than `limit` points as its LTTB sample
    of `limit` points, the same points charts.metric_history_figures would keep of the full series.

    Reading and sampling a 20,000-point series cost ~25 ms, so every series of more than one point is
    cached as charted. The cache key is a fingerprint the database computes on every call: per metric
    the number of points, the last step, the sum of the values and the sum of value x step. Any added,
    removed or rewritten point changes it (a change below the last bits of the float sums aside, which no
    chart could show). The VersionMetric summary could not serve: the registry sync and the metrics API
    upsert points without touching it when a middle step is rewritten. The fingerprint costs ~4 ms for
    20,000 points. A series with a NaN or infinite value is not cached: its sums stay NaN or infinite
    whatever else changes.

    One query when every series is cached (a series of one point is never read: its sum is its value),
    two otherwise."""
    summary = (
        MetricPoint.objects.filter(version=version)
        .values("key")
        .annotate(
            n=Count("id"),
            last=Max("step"),
            total=Sum("value"),
            moment=Sum(F("value") * F("step"), output_field=FloatField()),
        )
        .order_by("key")
        .values_list("key", "n", "last", "total", "moment")
    )
    points: dict[str, list[tuple[int, float]]] = {}
    totals: dict[str, int] = {}
    cache_keys: dict[str, str | None] = {}  # a series of more than one point -> its cache key
    for key, n, last, total, moment in summary:
        totals[key] = n
        if n == 1:
            points[key] = [(last, total)]
        else:
            cache_keys[key] = _history_cache_key(version.pk, key, limit, (n, last, total, moment))
    wanted = [cache_key for cache_key in cache_keys.values() if cache_key]
    if wanted:  # Redis refuses an MGET of no keys
        cached = cache.get_many(wanted)
        points.update((key, cached[ck]) for key, ck in cache_keys.items() if ck in cached)
    unread = [key for key in cache_keys if key not in points]
    if unread:
        fresh = {}
        for key, series in _metric_points(version=version, keys=unread).items():
            points[key] = lttb(series, limit)
            if cache_keys[key]:
                fresh[cache_keys[key]] = points[key]
        if fresh:
            cache.set_many(fresh, timeout=HISTORY_CACHE_TIMEOUT)
    # A metric whose points were deleted since they were counted has no points to chart.
    return SampledHistory(points={key: points[key] for key in totals if key in points}, totals=totals)


def _history_cache_key(version_id: int, key: str, limit: int, fingerprint: tuple) -> str | None:
    """None (not cached) for a series with a NaN or infinite sum."""
    if not _all_finite(fingerprint[2:]):
        return None
    return f"catalog:metric-history:{version_id}:{_digest((key, limit, fingerprint))}"


# The fingerprints above key cached derivations of metric data (histories as charted, charts across versions).
def _digest(value) -> str:
    """A short stable digest of `value`'s repr: metric keys may hold characters and lengths that cache
    backends refuse in keys."""
    return hashlib.sha256(repr(value).encode()).hexdigest()[:40]


def _all_finite(sums) -> bool:
    """False when a fingerprint sum is NaN or infinite: it then stays so whatever else changes, so it cannot
    tell one state of the data from another, and nothing keyed on it may be cached."""
    return all(math.isfinite(x) for x in sums)


def _metric_points(*, version: ModelVersion, keys: list[str]) -> dict[str, list[tuple[int, float]]]:
    """The points of some metrics of one version, per key in step order (one query).

    On PostgreSQL the rows are read in binary format through a psycopg cursor (wrapped by Django, so
    counted and logged like any query): 20,000 points took ~8 ms that way, ~11 ms as text and ~16 ms
    through values_list(). They are put in order here: the index does not order rows matched by
    `key = ANY(...)`, and PostgreSQL's sort took ~4 ms where Python's takes <1 ms on rows that
    come nearly ordered."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(MetricPoint._meta.db_table)
        rows = sorted(
            _binary_rows(
                f'SELECT "key", "step", "value" FROM {table} WHERE "version_id" = %s AND "key" = ANY(%s)',
                [version.pk, keys],
            )
        )
    else:
        rows = (
            MetricPoint.objects.filter(version=version, key__in=keys)
            .order_by("key", "step")
            .values_list("key", "step", "value")
        )
    return {key: [(step, value) for _, step, value in group] for key, group in groupby(rows, itemgetter(0))}


def _binary_rows(sql: str, params: list) -> list[tuple]:
    """PostgreSQL only. Django's own cursors bind parameters on the client, which rules out binary
    results; this one binds on the server, wrapped as Django wraps its cursors."""
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
