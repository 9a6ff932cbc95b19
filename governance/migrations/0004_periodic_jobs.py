"""Periodic governance jobs as django-celery-beat rows: admins can change their schedule in the admin."""

from django.db import migrations

JOBS = [
    ("Expire lapsed data-access grants", "governance.grants_expire", 1),
    ("Remind of data-access grants ending soon", "governance.grants_remind", 24),
    ("Close re-certification campaigns past their deadline", "governance.campaigns_close", 1),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, hours in JOBS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=hours, period="hours")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[j[0] for j in JOBS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_data_access"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
