"""Demo ledger content for ``load_demo``: a scope grant, AI decisions with trace ids, an action outside
its grant (which the INVITATION check turns into a violation), the violation's investigation and a
correction, all through the services, then integrated and checkpointed."""

from __future__ import annotations

from accountability.models import Project

from .selectors import decision_entry_for_trace
from .services import entries as entry_svc
from .services import grants as grant_svc
from .services.integration import integrate_pending

MODEL = {"model_id": "claude-opus", "provider": "anthropic", "model_version": "4.1", "session_id": "sess-demo-1"}
# The W3C spec's example trace id; the demo's first appeal contests this decision.
DECISION_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def has_demo_ledger(project: Project) -> bool:
    """Whether the demo entries are already in ``project``'s ledger (``load_demo`` is idempotent)."""
    return decision_entry_for_trace(DECISION_TRACE_ID, project.key) is not None


def load_demo_ledger(*, actor, project: Project, caio, reviewer_username: str) -> dict:
    """Record the demo entries in ``project`` as ``actor`` (governance staff); returns their ids."""
    grant_svc.scope_grant_create(
        actor=caio,
        project=project,
        model_id="claude-opus",
        action_types=["eligibility.*", "code.review"],
        reason="Eligibility pre-screening and code review under the approved oversight plan.",
    )
    oversight = {"kind": "user", "id": reviewer_username}
    decision = entry_svc.ledger_entry_append(
        actor=actor,
        project=project,
        entry_type="decision",
        performer=MODEL,
        action={
            "type": "eligibility.prescreen",
            "description": "Flagged application APP-2231 for manual income verification",
            "inputs": ["application summary (income fields only)"],
            "outputs": ["flag: manual verification"],
            "rationale": "Reported income differs from the wage record by more than the 15 % threshold.",
            "factors": ["income mismatch 22 %", "no prior flags"],
            "alternatives": ["approve automatically", "deny (not allowed without human review)"],
        },
        context={"task_id": "TASK-2231", "trace_id": DECISION_TRACE_ID},
        accountability={
            "human_oversight": "selective",
            "reversibility": "reversible",
            "responsibility": {"approver": oversight, "oversight": oversight},
        },
    )
    stray = entry_svc.ledger_entry_append(
        actor=actor,
        project=project,
        entry_type="action",
        performer=MODEL,
        action={
            "type": "data.export",
            "description": "Exported the week's screening statistics to a shared drive",
            "rationale": "Asked to by a developer in chat.",
        },
        context={"task_id": "TASK-2240"},
        accountability={
            "human_oversight": "audit",
            "reversibility": "partial",
            "responsibility": {"oversight": oversight},
        },
    )
    ids = {"decision": decision.entry_id, "action": stray.entry_id, "violations": stray.violations}
    if stray.violations:
        entry_svc.violation_update(
            actor=actor,
            violation_entry_id=stray.violations[0],
            investigation_status="contained",
            immediate_action="Shared-drive file removed; statistics contained no personal data.",
            note="Containment confirmed by governance staff.",
        )
    entry_svc.correction_record(
        actor=actor,
        corrects=decision.entry_id,
        reason="The threshold quoted in the rationale was wrong.",
        amendments={"action.rationale": "Reported income differs from the wage record by more than 20 %."},
    )
    integrate_pending()
    return ids
