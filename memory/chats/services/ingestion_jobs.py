"""Run one MessageIngestionJob: import its file, keep its counters and progress, record the outcome."""

import os
import time

from ..models import MessageIngestionJob
from .ingestion import ImportFailed, import_export


COUNTER_WRITE_INTERVAL_SECONDS = 0.25


def run_ingestion(job_id, report=None):
    """Import the job's file; return its counters. The job row records progress and the outcome."""
    job = MessageIngestionJob.objects.select_related("workspace").get(pk=job_id)
    if not job.mark_running():
        return {"skipped": job.status}

    saved_at = [0.0]

    def on_progress(progress):
        # The page reads the row: a write every quarter second is live enough, one per ten
        # messages would cost more than the import itself.
        now = time.monotonic()
        if now - saved_at[0] >= COUNTER_WRITE_INTERVAL_SECONDS:
            saved_at[0] = now
            job.save_counters(progress.counters, progress.bytes_read)
        if report is not None:
            report(progress.counters["seen"], None,
                   f"{progress.counters['seen']} messages read, {progress.counters['created']} new", progress)

    try:
        job.bytes_total = os.path.getsize(job.source_file)
        job.save(update_fields=["bytes_total"])
        counters, chat_ids = import_export(job.source_file, job.workspace, on_progress)
    except ImportFailed as exc:
        job.save_counters(exc.counters, exc.byte_offset)
        job.mark_failed(str(exc))
        raise
    except OSError as exc:
        job.mark_failed(f"cannot read {job.original_name or job.source_file}: {exc.strerror or exc}")
        raise
    job.save_counters(counters, job.bytes_total)
    job.mark_completed(chat_id=chat_ids[0] if chat_ids else None)
    return {**counters, "chat_ids": chat_ids}

