from django.db import migrations


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=24, period="hours")
    PeriodicTask.objects.get_or_create(
        name="Re-verify production versions", defaults={"task": "governance.verification_schedule", "interval": interval}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="Re-verify production versions").delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0005_verification"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
