"""Decision analysis: a quality score and the findings that keep a decision from a full score."""

from django.utils import timezone

from memory.providers.text_generation import get_text_generator


def analyze_decision(decision, generator=None):
    """Score a decision with the configured text generator; store and return the assessment."""
    generator = generator or get_text_generator()
    assessment = generator.assess_decision(
        decision.title, decision.context, [str(o) for o in decision.options], decision.chosen, decision.rationale,
        owner=decision.owner.get_username() if decision.owner_id else "",
        decided_on=decision.decided_at.date().isoformat() if decision.decided_at else "",
    )
    decision.quality_score = assessment.score
    decision.findings = list(assessment.findings)
    decision.analyzed_at = timezone.now()
    decision.save(update_fields=["quality_score", "findings", "analyzed_at"])
    return {"score": assessment.score, "findings": decision.findings}
