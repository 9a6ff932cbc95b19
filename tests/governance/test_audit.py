import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from catalog.models import Domain
from governance.models import AuditEvent
from governance.services.audit import audit_record, audit_verify

pytestmark = pytest.mark.django_db


def record(actor, n=3):
    domain = Domain.objects.create(name="Risk", slug="risk", key="RISK")
    with transaction.atomic():
        for i in range(n):
            audit_record(
                actor=actor,
                action="test.changed",
                target=domain,
                before={"i": i},
                after={"i": i + 1, "score": 0.5},
                reason=f"step {i}",
            )
    return list(AuditEvent.objects.order_by("seq"))


def test_events_chain_and_verify(engineer):
    events = record(engineer)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert events[0].actor_name == "eric" and events[0].target_label == "Risk"
    report = audit_verify()
    assert report.ok and report.checked == 3


def test_record_outside_a_transaction_is_refused(engineer):
    domain = Domain.objects.create(name="Risk", slug="risk", key="RISK")
    # pytest-django wraps tests in a transaction; leave it to prove the guard.
    with pytest.raises(RuntimeError, match="inside the transaction"):
        connection.in_atomic_block, saved = False, connection.in_atomic_block
        try:
            audit_record(actor=engineer, action="x", target=domain)
        finally:
            connection.in_atomic_block = saved


def test_the_model_refuses_updates_and_deletes(engineer):
    event = record(engineer, n=1)[0]
    event.reason = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()


def test_the_database_refuses_updates_and_deletes(engineer):
    record(engineer, n=1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(reason="rewritten")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().reason == "step 0"


@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_truncate_outside_test_databases(engineer):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    record(engineer, n=1)
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL modelhouse.test_database = 'off'")
        cursor.execute("TRUNCATE governance_auditevent CASCADE")
    assert AuditEvent.objects.count() == 1


def tamper(sql: str, params=()):
    """What an attacker with the database owner's rights could do: switch the trigger off and edit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser can switch triggers off for a session; the app's role cannot.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER governance_audit_no_update")
            cursor.execute(sql, params)


@pytest.mark.parametrize(
    "sql, broken, problem",
    [
        ("UPDATE governance_auditevent SET reason = 'nothing to see' WHERE seq = 2", 2, "changed"),
        ("DELETE FROM governance_auditevent WHERE seq = 2", 2, "missing"),
        ("UPDATE governance_auditevent SET actor_name = 'cora' WHERE seq = 3", 3, "changed"),
    ],
)
def test_verify_audit_names_the_first_tampered_event(engineer, sql, broken, problem):
    record(engineer, n=4)
    tamper(sql)
    report = audit_verify()
    assert report.first_broken_seq == broken and problem in report.problem
    with pytest.raises(CommandError, match=f"broken at event #{broken}"):
        call_command("verify_audit")


def test_verify_audit_command_on_an_intact_chain(engineer, capsys):
    record(engineer, n=2)
    call_command("verify_audit")
    assert "2 events verified" in capsys.readouterr().out
