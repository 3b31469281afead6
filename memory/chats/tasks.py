"""The chat jobs: thin tasks (ids in, one service call, progress and events out)."""

from collections import Counter

from django.tasks import task

from jobs import HIGH_PRIORITY, LOW_PRIORITY, RetryPolicy

from . import events
from .models import AnalysisRun, ClassificationExperiment, EmbeddingProviderConfig, Message, MessageIngestionJob
from .services import analysis, avatars, embedding, experiments, ingestion_jobs, knowledge, scoring, triggers

SCORE_CHUNK = 1000


@task(queue_name="memory", priority=HIGH_PRIORITY, retry=RetryPolicy.linear(3, 30), kind="scoring")
def score_message(message_id):
    """Score one message; queue knowledge extraction once its chat has enough new untopiced messages."""
    message = scoring.score_message(message_id)
    if message is None:
        return {"skipped": "missing"}
    events.publish("message_scored", message_id=message.pk, chat_id=message.chat_id,
                   score=message.importance_score, noise_class=message.noise_class)
    ids = triggers.messages_awaiting_extraction(message.chat_id)
    if ids:
        # One active run per chat (unique key): ten messages arriving at once queue it once.
        extract_knowledge_from_messages.enqueue(ids, chat_id=message.chat_id)
    return {"score": message.importance_score, "noise_class": message.noise_class}


@task(queue_name="memory", retry=RetryPolicy.linear(3, 60), takes_context=True, kind="scoring",
      unique_key="chats:score-unscored")
def score_unscored_messages(context):
    """Score every unscored message, 1,000 at a time."""
    total = Message.objects.unscored().count()
    done = 0
    while True:
        chunk = list(Message.objects.unscored().select_related("chat").order_by("pk")[:SCORE_CHUNK])
        if not chunk:
            break
        by_workspace = {}
        for message in chunk:
            by_workspace.setdefault(message.chat.workspace_id, []).append(message)
        for group in by_workspace.values():
            scoring.score_batch(group)
        done += len(chunk)
        # One event per chat, so that each chat's page (ws/chats/<id>/) hears of its own messages.
        for chat_id, count in Counter(message.chat_id for message in chunk).items():
            events.publish("batch_scored", chat_id=chat_id, count=count, done=done, total=total)
        context.report_progress(done, max(total, done), f"{done} of {total} scored")
    return {"scored": done}


@task(queue_name="topics", retry=RetryPolicy.linear(3, 60), takes_context=True, kind="knowledge",
      unique_key="chats:knowledge:{chat_id}")
def extract_knowledge_from_messages(context, message_ids, chat_id=None):
    """Topics and atoms from messages, 50 at a time."""
    events.publish("knowledge.extraction_started", chat_id=chat_id, messages=len(message_ids))
    try:
        counts = knowledge.extract_knowledge(
            message_ids, on_batch=lambda done, total: context.report_progress(done, total, f"{done} of {total}"))
    except Exception as exc:
        events.publish("knowledge.extraction_failed", chat_id=chat_id, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    events.publish("knowledge.extraction_completed", chat_id=chat_id, **counts)
    return counts


def _provider(provider_id):
    config = EmbeddingProviderConfig.objects.get(pk=provider_id) if provider_id else EmbeddingProviderConfig.default()
    return embedding.provider_for(config)


@task(queue_name="embeddings", retry=RetryPolicy.linear(3, 60), takes_context=True, kind="embedding")
def embed_messages_batch(context, message_ids, provider_id=None):
    """Embed messages in batches of 100; return {success, failed, skipped}."""
    return embedding.embed_messages(
        message_ids, _provider(provider_id),
        on_batch=lambda done, total: context.report_progress(done, total, f"{done} of {total} embedded"))


@task(queue_name="embeddings", retry=RetryPolicy.linear(3, 60), takes_context=True, kind="embedding")
def embed_atoms_batch(context, atom_ids, provider_id=None):
    """Embed atoms in batches of 100; return {success, failed, skipped}."""
    return embedding.embed_atoms(
        atom_ids, _provider(provider_id),
        on_batch=lambda done, total: context.report_progress(done, total, f"{done} of {total} embedded"))


# Network trouble is retried; a photo refused (too large, not an image) is recorded, not retried.
@task(queue_name="memory", priority=LOW_PRIORITY, retry=RetryPolicy.linear(3, 60), kind="avatar",
      unique_key="chats:avatar:{0}")
def cache_author_avatar(author_id):
    """Download the author's profile photo through the Bot API into MEDIA_ROOT."""
    return avatars.cache_avatar(author_id)


# A malformed file stays malformed: no retry. The job row says where and why it stopped.
@task(queue_name="memory", retry=RetryPolicy.none(), takes_context=True, kind="ingestion")
def ingest_telegram_export(context, job_id):
    """Import a Telegram Desktop export, then score what it brought."""
    counters = ingestion_jobs.run_ingestion(
        job_id, report=lambda done, total, message, progress: context.report_progress(
            progress.bytes_read, progress.bytes_total, message))
    if counters.get("created") or counters.get("updated"):
        score_unscored_messages.enqueue()
    return counters


@task(queue_name="analytics", priority=LOW_PRIORITY, retry=RetryPolicy.none(), takes_context=True,
      kind="analysis")
def execute_analysis_run(context, run_id):
    """Turn a window of messages into proposals, batch by batch."""
    run = AnalysisRun.objects.get(pk=run_id)
    if not run.mark_running():
        return {"skipped": run.status}
    events.publish("analysis.run_started", analysis_run_id=run.pk)

    def on_batch(done, total, made):
        events.publish("analysis.batch_completed", analysis_run_id=run.pk, batch=done, batches=total,
                       proposals=made)
        context.report_progress(done, total, f"batch {done} of {total}")

    try:
        counts = analysis.execute(run, on_batch)
    except Exception as exc:
        run.mark_failed(f"{type(exc).__name__}: {exc}")
        events.publish("analysis.run_failed", analysis_run_id=run.pk, error=run.error_message[:500])
        raise
    run.mark_completed()
    events.publish("analysis.run_completed", analysis_run_id=run.pk, **counts)
    return counts


@task(queue_name="analytics", priority=LOW_PRIORITY, retry=RetryPolicy.none(), takes_context=True,
      kind="experiment")
def execute_classification_experiment(context, experiment_id):
    """Cross-validate the experiment's classifier and store accuracy, per-class metrics and the matrix."""
    experiment = ClassificationExperiment.objects.get(pk=experiment_id)
    if not experiment.mark_running():
        return {"skipped": experiment.status}
    events.publish("experiment_started", experiment_id=experiment.pk)

    def on_fold(fold, folds):
        events.publish("experiment_progress", experiment_id=experiment.pk, fold=fold, folds=folds)
        context.report_progress(fold, folds, f"fold {fold} of {folds}")

    try:
        result = experiments.run_experiment(experiment, on_fold)
    except Exception as exc:
        experiment.mark_failed(f"{type(exc).__name__}: {exc}")
        events.publish("experiment_failed", experiment_id=experiment.pk, error=experiment.error_message[:500])
        raise
    events.publish("experiment_completed", experiment_id=experiment.pk, **result)
    return result


__all__ = [
    "cache_author_avatar", "embed_atoms_batch", "embed_messages_batch", "execute_analysis_run", "execute_classification_experiment",
    "extract_knowledge_from_messages", "ingest_telegram_export", "score_message", "score_unscored_messages",
]
