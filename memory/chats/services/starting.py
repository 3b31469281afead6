"""Create a job row and enqueue its job in one transaction (the run is dispatched after the commit)."""

from django.db import transaction

from jobs.context import triggered_by

from ..models import AnalysisRun, ClassificationExperiment, MessageIngestionJob


def _enqueue(row, task, user):
    with triggered_by(user=user):
        result = task.enqueue(row.pk)
    row.run_id = str(result.id)
    row.save(update_fields=["run_id"])
    return row


@transaction.atomic
def start_ingestion(workspace, path, original_name="", user=None):
    from ..tasks import ingest_telegram_export  # noqa: PLC0415 - tasks import the services

    job = MessageIngestionJob.objects.create(workspace=workspace, source_file=path, original_name=original_name,
                                             created_by=user)
    return _enqueue(job, ingest_telegram_export, user)


@transaction.atomic
def start_analysis(user=None, **fields):
    from ..tasks import execute_analysis_run  # noqa: PLC0415

    run = AnalysisRun.objects.create(created_by=user, **fields)
    return _enqueue(run, execute_analysis_run, user)


@transaction.atomic
def start_experiment(user=None, **fields):
    from ..tasks import execute_classification_experiment  # noqa: PLC0415

    experiment = ClassificationExperiment.objects.create(created_by=user, **fields)
    return _enqueue(experiment, execute_classification_experiment, user)


@transaction.atomic
def rerun(row):
    """Run a finished ingestion, analysis or experiment again (admin actions)."""
    from .. import tasks  # noqa: PLC0415

    task = {MessageIngestionJob: tasks.ingest_telegram_export, AnalysisRun: tasks.execute_analysis_run,
            ClassificationExperiment: tasks.execute_classification_experiment}[type(row)]
    row.reset_for_rerun()
    return _enqueue(row, task, None)
