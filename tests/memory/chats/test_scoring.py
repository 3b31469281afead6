"""Importance scores, noise classes, and the knowledge-extraction trigger."""

import datetime as dt

import pytest
from django.utils import timezone

from jobs import RunStatus
from jobs.models import JobRun
from memory.chats.models import ChatTopic, Message, NoiseClass
from memory.chats.services import scoring
from memory.chats.tasks import score_message, score_unscored_messages
from tests.memory.factories import make_workspace

from .factories import make_author, make_chat, make_messages

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat():
    return make_chat(make_workspace())


def test_noise_classes_follow_the_thresholds():
    assert NoiseClass.of(0.0) == NoiseClass.of(0.2999) == NoiseClass.NOISE
    assert NoiseClass.of(0.3) == NoiseClass.of(0.6999) == NoiseClass.WEAK_SIGNAL
    assert NoiseClass.of(0.7) == NoiseClass.of(1.0) == NoiseClass.SIGNAL


def test_chatter_is_noise_and_a_substantial_question_with_a_link_is_signal(chat):
    author = make_author(chat.workspace, message_count=40)
    ok, question, statement = make_messages(chat, [
        "ok",
        "Why did the nightly backup of the billing database fail again? @bob the logs are at "
        "https://grafana.example.com/d/backup and the disk looks full since Tuesday.",
        "The deploy pipeline fails when the container image is larger than two gigabytes.",
    ], author=author)
    for message in (ok, question, statement):
        scoring.score_message(message.pk)
        message.refresh_from_db()
    assert ok.noise_class == NoiseClass.NOISE
    assert question.noise_class == NoiseClass.SIGNAL
    assert ok.importance_score < statement.importance_score < question.importance_score
    assert question.noise_factors["links"] == 1.0 and question.noise_factors["mentions"] == 1.0
    assert set(question.noise_factors) >= {"length", "uniqueness", "question", "author_activity", "recency",
                                           "topic_relevance"}


def test_old_messages_score_lower_than_the_same_text_today(chat):
    text = "We should move the backups to object storage before the end of the month."
    old, = make_messages(chat, [text], start=timezone.now() - dt.timedelta(days=120))
    new, = make_messages(chat, [text + " Really."], first_id=10)
    old_score, _ = scoring.score(old, scoring.ScoringContext(chat.workspace_id), False, 0)
    new_score, _ = scoring.score(new, scoring.ScoringContext(chat.workspace_id), False, 0)
    assert old_score < new_score * 0.8


def test_a_repeated_text_loses_its_uniqueness(chat):
    first, second = make_messages(chat, ["the deploy is done now", "the deploy is done now"])
    scoring.score_message(second.pk)
    second.refresh_from_db()
    assert second.noise_factors["uniqueness"] == 0.0
    scoring.score_message(first.pk)
    first.refresh_from_db()
    assert first.noise_factors["uniqueness"] == 1.0


def test_topic_relevance_is_the_cosine_to_the_nearest_centroid(chat):
    from memory.providers.embeddings import get_embedding_provider

    provider = get_embedding_provider()
    ChatTopic.objects.create(workspace=chat.workspace, name="backups",
                             centroid=provider.embed(["database backups failing because the disk is full"])[0])
    near, far = make_messages(chat, ["The billing database backup failed, disk full again",
                                     "Happy birthday Carol, enjoy the cake"])
    for message in (near, far):
        Message.objects.filter(pk=message.pk).update(embedding=provider.embed([message.text])[0])
        scoring.score_message(message.pk)
        message.refresh_from_db()
    assert near.noise_factors["topic_relevance"] > 0.6 > far.noise_factors["topic_relevance"]


def test_the_batch_scorer_agrees_with_the_single_scorer(chat):
    author = make_author(chat.workspace, message_count=5)
    messages = make_messages(chat, ["ok", "Can someone review the migration plan for the invoices table?",
                                    "lol lol lol"], author=author)
    scoring.score_batch([Message.objects.select_related("chat").get(pk=m.pk) for m in messages])
    batch = dict(Message.objects.values_list("pk", "importance_score"))
    Message.objects.update(importance_score=None)
    for message in messages:
        scoring.score_message(message.pk)
    assert dict(Message.objects.values_list("pk", "importance_score")) == pytest.approx(batch, abs=1e-3)


def test_score_unscored_messages_scores_everything_in_chunks(chat, work, monkeypatch):
    import memory.chats.tasks as tasks

    monkeypatch.setattr(tasks, "SCORE_CHUNK", 7)
    make_messages(chat, [f"message {i} about the release plan" for i in range(20)])
    score_unscored_messages.enqueue()
    work()
    assert not Message.objects.unscored().exists()
    run = JobRun.objects.get(task_path="memory.chats.tasks.score_unscored_messages")
    assert run.status == RunStatus.SUCCEEDED and run.result == {"scored": 20}
    assert (run.progress_done, run.progress_total) == (20, 20)


def test_ten_new_untopiced_messages_queue_one_extraction_per_chat(chat, work):
    messages = make_messages(chat, [f"The backup job number {i} failed because the disk was full" for i in range(12)])
    score_message.enqueue_many([(m.pk,) for m in messages])
    work(["memory.high", "memory.normal"])  # scoring only; extraction waits on the topics queue
    runs = JobRun.objects.filter(task_path="memory.chats.tasks.extract_knowledge_from_messages")
    assert runs.count() == 1
    assert runs.get().kwargs == {"chat_id": chat.pk}
    assert len(runs.get().args[0]) == 12


def test_nine_messages_do_not_queue_extraction(chat, work):
    messages = make_messages(chat, [f"message {i} about the plan" for i in range(9)])
    score_message.enqueue_many([(m.pk,) for m in messages])
    work(["memory.high"])
    assert not JobRun.objects.filter(task_path="memory.chats.tasks.extract_knowledge_from_messages").exists()
