"""The database itself refuses UPDATE and DELETE on audit rows, whatever code or role asks."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION governance_audit_append_only() RETURNS trigger AS $$
BEGIN
    -- Emptying the whole table is allowed only to a session that says it is a throw-away test database.
    IF TG_OP = 'TRUNCATE' AND current_setting('modelhouse.test_database', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'governance_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER governance_audit_no_update BEFORE UPDATE OR DELETE ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION governance_audit_append_only();
CREATE TRIGGER governance_audit_no_truncate BEFORE TRUNCATE ON governance_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION governance_audit_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS governance_audit_no_truncate ON governance_auditevent;
DROP TRIGGER IF EXISTS governance_audit_no_update ON governance_auditevent;
DROP FUNCTION IF EXISTS governance_audit_append_only();
"""
# SQLite (the embedded single-user default) refuses edits; a whole-table DELETE stays possible because
# that is how Django empties a SQLite test database. Whoever holds the file can rewrite it anyway; the
# hash chain is what detects that.
SQLITE_FORWARD = [
    "CREATE TRIGGER governance_audit_no_update BEFORE UPDATE ON governance_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'governance_auditevent is append-only (UPDATE refused)'); END;",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS governance_audit_no_update"]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)  # no interpolation: the SQL holds a literal %
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
