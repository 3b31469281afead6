"""jobs.operate_queues: the permission django-rq's actions and queue pause/resume need.

Created here rather than in JobRun.Meta.permissions so the model's file stays untouched; Django's
post_migrate finds it by codename and leaves it be.
"""

from django.db import migrations

CODENAME = "operate_queues"
NAME = "Can operate queues (empty, requeue, delete, stop, pause, resume)"


def create_permission(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.using(schema_editor.connection.alias).get_or_create(
        app_label="jobs", model="jobrun")
    Permission.objects.using(schema_editor.connection.alias).get_or_create(
        content_type=content_type, codename=CODENAME, defaults={"name": NAME})


def delete_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="jobs", codename=CODENAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0006_observability"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_permission, delete_permission)]
