"""One django-celery-beat entry per monitoring check, so admins can tune each schedule."""

from django.db import migrations

CHECKS = [
    ("retraining_overdue", 60),
    ("data_stale", 30),
    ("retraining_variance", 60),
    ("prediction_bias", 15),
    ("verification_failing", 30),
    ("unapproved_alias", 5),
    ("data_access_lapsed", 60),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for condition, minutes in CHECKS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(
            name=f"Monitor: {condition.replace('_', ' ')}",
            defaults={"task": "governance.monitor", "interval": interval, "args": f'["{condition}"]'},
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="governance.monitor").delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0007_monitoring"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
