"""Record decisions; each is analysed by a job after the transaction commits."""

from django.db import transaction
from django.http import JsonResponse

from memory.models import Decision
from memory.insights.tasks import analyze_decision
from memory.core.api_auth import api_view, json_body
from memory.core.api_forms import DecisionForm
from memory.core.api import iso


def decision_json(decision):
    return {
        "id": decision.pk, "workspace": decision.workspace_id, "project": decision.project_id,
        "title": decision.title, "context": decision.context, "options": decision.options,
        "chosen": decision.chosen, "rationale": decision.rationale, "owner": decision.owner_id,
        "decided_at": iso(decision.decided_at), "quality_score": decision.quality_score,
        "findings": decision.findings, "analyzed_at": iso(decision.analyzed_at),
        "created_at": iso(decision.created_at),
    }


@api_view("POST")
def create_decision(request):
    """Record a decision owned by the caller and enqueue its analysis."""
    data = DecisionForm(json_body(request), user=request.user).validated()
    project = data.pop("project")
    with transaction.atomic():
        decision = Decision.objects.create(workspace_id=project.workspace_id, project=project, owner=request.user,
                                           **data)
        # The job platform dispatches after commit, so the worker always finds the row.
        analyze_decision.enqueue(decision.pk)
    return JsonResponse(decision_json(decision), status=201)
