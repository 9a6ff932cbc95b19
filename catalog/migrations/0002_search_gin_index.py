"""Full-text search index on PostgreSQL only; SQLite (the embedded default) uses the substring fallback."""

from django.db import migrations

FORWARD = (
    "CREATE INDEX IF NOT EXISTS catalog_model_search_gin "
    "ON catalog_registeredmodel USING gin (search_vector)"
)
BACKWARD = "DROP INDEX IF EXISTS catalog_model_search_gin"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
