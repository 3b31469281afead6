"""Analysis runs: messages in a window, pre-filtered, classified in batches into proposals.

The local agent is a real classifier (a linear SVM over TF-IDF words+chars and embeddings, with
sigmoid-calibrated probabilities) trained on seed examples plus the team's reviewed proposals; a
proposal is made when a message's most likely kind is not `none` with at least `min_confidence`.
With `use_rag`, each proposal carries the atoms a hybrid search finds for its message. An agent
row of kind `llm` asks an OpenAI-compatible chat model instead (see proposers), with the RAG atoms
in its prompt.
"""

import re
import time

import numpy as np
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import transaction
from pgvector.django import CosineDistance

from ..models import AgentConfig, Atom, Message, Proposal
from .classification import LinearTextClassifier
from .embedding import provider_for
from .proposal_examples import SEED_EXAMPLES
from .proposers import MAX_PROBLEMS_LOGGED, LLMProposer, LocalProposer

MENTION = re.compile(r"(?<!\w)@\w{3,}")
RAG_RESULTS = 3
RRF_K = 60


def training_set(workspace_id):
    texts, labels = [], []
    for label, examples in SEED_EXAMPLES.items():
        texts += examples
        labels += [label] * len(examples)
    reviewed = Proposal.objects.filter(run__workspace_id=workspace_id).exclude(review=Proposal.Review.OPEN)
    for text, kind, review in reviewed.values_list("text", "kind", "review")[:5000]:
        texts.append(text)
        labels.append(kind if review == Proposal.Review.ACCEPTED else "none")
    return texts, labels


class ProposalClassifier:
    """Calibrated probabilities over task / decision / question / problem / none."""

    def __init__(self, workspace_id, provider):
        # Imported here: scikit-learn costs every process that loads the tasks seconds at start-up.
        from sklearn.calibration import CalibratedClassifierCV  # noqa: PLC0415
        from sklearn.svm import LinearSVC  # noqa: PLC0415

        self.provider = provider
        texts, labels = training_set(workspace_id)
        self.features = LinearTextClassifier("words+chars+embedding")
        matrix = self.features.features(texts, provider.embed(texts), fit=True)
        calibrated = CalibratedClassifierCV(LinearSVC(C=1.0), method="sigmoid", cv=3)
        self.model = calibrated.fit(matrix, labels)

    def classify(self, texts, vectors):
        """Return [(kind, probability)] for each text."""
        probabilities = self.model.predict_proba(self.features.features(texts, vectors))
        best = np.argmax(probabilities, axis=1)
        return [(str(self.model.classes_[i]), float(probabilities[row, i])) for row, i in enumerate(best)]


def window_messages(run):
    messages = Message.objects.filter(chat__workspace_id=run.workspace_id, sent_at__gte=run.window_start,
                                      sent_at__lt=run.window_end).exclude(text="")
    if run.chat_id:
        messages = messages.filter(chat_id=run.chat_id)
    return messages.order_by("sent_at", "pk")


def keep(message, filters):
    """The pre-filter: keywords (any), minimum length, mentions only."""
    text = message.text
    if len(text) < int(filters.get("min_length") or 0):
        return False
    keywords = [k.lower() for k in filters.get("keywords") or [] if isinstance(k, str) and k.strip()]
    if keywords and not any(k in text.lower() for k in keywords):
        return False
    if filters.get("mentions_only") and not MENTION.search(text):
        return False
    return True


def rag_context(workspace_id, text, vector):
    """Atom ids from full-text and vector rankings fused by reciprocal rank."""
    atoms = Atom.objects.filter(workspace_id=workspace_id)
    query = SearchQuery(text[:300], search_type="websearch", config="english")
    by_text = list(atoms.annotate(rank=SearchRank(SearchVector("title", "content", config="english"), query))
                   .filter(rank__gt=0).order_by("-rank").values_list("pk", flat=True)[:20])
    by_vector = list(atoms.filter(embedding__isnull=False).annotate(d=CosineDistance("embedding", vector))
                     .order_by("d").values_list("pk", flat=True)[:20])
    scores = {}
    for ranking in (by_text, by_vector):
        for position, pk in enumerate(ranking):
            scores[pk] = scores.get(pk, 0.0) + 1.0 / (RRF_K + position + 1)
    return sorted(scores, key=lambda pk: -scores[pk])[:RAG_RESULTS]


def proposer_for(run, agent, provider):
    """The agent's proposer: an LLM for an `llm` row, else the classifier trained on this workspace."""
    if agent.is_llm:
        return LLMProposer(agent)
    return LocalProposer(ProposalClassifier(run.workspace_id, provider))


def execute(run, on_batch=None):
    """Run the analysis; record counters, timings and errors on the run. Returns the counters.

    A batch that fails (an LLM timeout, a reply that is not the JSON asked for) is logged in
    error_log and the run goes on; malformed items of a usable reply are logged there too. The
    run fails only when every batch failed.
    """
    timings = {}
    started = time.perf_counter()
    agent = run.agent or AgentConfig.default(AgentConfig.Purpose.ANALYSIS)
    min_confidence = float((agent.parameters or {}).get("min_confidence", 0.5))
    provider = provider_for()
    messages = list(window_messages(run))
    kept = [m for m in messages if keep(m, run.filters or {})]
    timings["select_s"] = round(time.perf_counter() - started, 3)
    mark = time.perf_counter()
    proposer = proposer_for(run, agent, provider)
    timings["train_s"] = round(time.perf_counter() - mark, 3)
    size = max(1, run.batch_size)
    batches = [kept[i:i + size] for i in range(0, len(kept), size)]
    run.messages_in_window, run.messages_kept, run.batches_total = len(messages), len(kept), len(batches)
    run.save(update_fields=["messages_in_window", "messages_kept", "batches_total"])
    mark = time.perf_counter()
    failed = malformed = 0
    for number, batch in enumerate(batches, start=1):
        try:
            made, problems = _analyse_batch(run, batch, proposer, provider, min_confidence)
        except Exception as exc:  # noqa: BLE001 - one bad batch is logged; the run goes on
            run.error_log = [*run.error_log, {"batch": number, "error": f"{type(exc).__name__}: {exc}"[:500]}]
            made, failed = 0, failed + 1
        else:
            if problems:
                malformed += len(problems)
                run.error_log = [*run.error_log, {
                    "batch": number, "malformed": len(problems),
                    "error": "; ".join(problems[:MAX_PROBLEMS_LOGGED])[:500]}]
        run.batches_done, run.proposals_count = number, run.proposals_count + made
        run.save(update_fields=["batches_done", "proposals_count", "error_log"])
        if on_batch is not None:
            on_batch(number, len(batches), made)
    timings["batches_s"] = round(time.perf_counter() - mark, 3)
    timings["total_s"] = round(time.perf_counter() - started, 3)
    run.timings = timings
    run.save(update_fields=["timings"])
    if batches and failed == len(batches):
        raise RuntimeError(f"every batch failed; first error: {run.error_log[0]['error']}")
    return {"messages": len(messages), "kept": len(kept), "batches": len(batches),
            "proposals": run.proposals_count, "errors": failed, "malformed": malformed}


def _analyse_batch(run, batch, proposer, provider, min_confidence):
    texts = [m.text for m in batch]
    vectors = provider.embed(texts) if proposer.needs_vectors or run.use_rag else None
    contexts = ([rag_context(run.workspace_id, m.text, v) for m, v in zip(batch, vectors)]
                if run.use_rag else [[] for _ in batch])
    background = []
    if run.use_rag:
        found = dict(Atom.objects.filter(pk__in={pk for ids in contexts for pk in ids}).values_list("pk", "content"))
        background = [found[pk] for pk in dict.fromkeys(pk for ids in contexts for pk in ids) if pk in found]
    proposed, problems = proposer.propose(texts, vectors, background)
    made = 0
    with transaction.atomic():
        for item in proposed:
            if item.confidence < min_confidence:
                continue
            message = batch[item.index]
            proposal = Proposal.objects.create(run=run, kind=item.kind, text=item.text,
                                               confidence=round(item.confidence, 4), context=contexts[item.index])
            proposal.source_messages.add(message)
            made += 1
    return made, problems
