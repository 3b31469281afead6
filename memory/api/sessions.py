"""Session endpoints: the cached retrieval context and posting a message."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from ..models import Layer, Session, Source
from ..providers.text_generation import ProviderError, get_text_generator
from ..services.memories import record_memory
from ..services.context import refresh_context
from .memories import memory_json
from .auth import api_view, json_body
from .forms import MessageForm

def session_for(request, pk):
    return get_object_or_404(Session.objects.visible_to(request.user).select_related("project"), pk=pk)


@api_view("GET")
def session_context(request, pk):
    """Return the session's retrieval context (rebuilt when older than five minutes)."""
    session = session_for(request, pk)
    return JsonResponse({"session": session.pk, "context": refresh_context(session),
                         "cached_at": session.context_cached_at.isoformat()})


def generate_reply(message, context):
    """Ask the configured LLM to answer from the retrieved memories; return (reply, error)."""
    texts = [message, *(m["content"] for m in context["memories"])]
    try:
        return get_text_generator().summarize(texts).summary, None
    except ProviderError as exc:
        return None, str(exc)


@api_view("POST")
def post_message(request, pk):
    """Store a message as an episodic memory of the session's project and return the refreshed context."""
    session = session_for(request, pk)
    data = MessageForm(json_body(request), user=request.user).validated()
    memory = record_memory(session.project, data["content"], layer=Layer.EPISODIC, source=Source.MESSAGE,
                           metadata={"session": session.pk})
    memory.embedded = False
    now = timezone.now()
    Session.objects.filter(pk=session.pk).update(last_active_at=now)
    context = refresh_context(session, now=now, force=True)
    body = {"session": session.pk, "message": memory_json(memory), "context": context}
    # The local generator only summarises; a reply is worth its latency only from a real LLM.
    if settings.MEMORY_LLM_PROVIDER != "local":
        body["reply"], reply_error = generate_reply(data["content"], context)
        if reply_error:
            body["reply_error"] = reply_error
    return JsonResponse(body, status=201)
