"""Session endpoints: the cached retrieval context and posting a message."""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from memory.models import Layer, Session, Source
from memory.providers.text_generation import ProviderError, TextGenerationConfig, get_text_generator
from memory.core.recording import record_memory
from memory.sessions.context import refresh_context
from memory.core.api import memory_json
from memory.core.api_auth import api_view, json_body
from memory.core.api_forms import MessageForm


def session_for(request, pk):
    return get_object_or_404(Session.objects.visible_to(request.user).select_related("project"), pk=pk)


@api_view("GET")
def session_context(request, pk):
    """Return the session's retrieval context (rebuilt when older than five minutes)."""
    session = session_for(request, pk)
    return JsonResponse({"session": session.pk, "context": refresh_context(session),
                         "cached_at": session.context_cached_at.isoformat()})


def generate_reply(message, context):
    """Answer the message from the context's memories: {"reply", "reply_memory_ids"} or {"reply_error"}."""
    memories = context["memories"]
    try:
        answer = get_text_generator().answer(message, [m["content"] for m in memories])
    except ProviderError as exc:
        return {"reply_error": str(exc)}
    return {"reply": answer.text, "reply_memory_ids": [memories[i]["id"] for i in answer.source_indexes]}


@api_view("POST")
def post_message(request, pk):
    """Store a message as an episodic memory of the session's project and return the refreshed context."""
    session = session_for(request, pk)
    if not Session.objects.editable_by(request.user).filter(pk=session.pk).exists():
        raise PermissionDenied
    data = MessageForm(json_body(request), user=request.user).validated()
    memory = record_memory(session.project, data["content"], layer=Layer.EPISODIC, source=Source.MESSAGE,
                           metadata={"session": session.pk})
    memory.embedded = False
    now = timezone.now()
    Session.objects.filter(pk=session.pk).update(last_active_at=now)
    context = refresh_context(session, now=now, force=True)
    body = {"session": session.pk, "message": memory_json(memory), "context": context}
    # The local generator can only quote the context back, which the caller already has; a reply is
    # worth its latency only from a real LLM. A failing LLM costs the reply, not the stored message.
    if TextGenerationConfig.from_settings().provider != "local":
        body.update(generate_reply(data["content"], context))
    return JsonResponse(body, status=201)
