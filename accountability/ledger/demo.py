"""Demo ledger content for ``load_demo``: a scope grant, AI decisions with trace ids, an action outside
its grant (which the INVITATION check turns into a violation), the violation's investigation, a
correction, and a code review the reviewing model signed with its registered key, all through the
services, then integrated and checkpointed."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from accountability.models import Project

from . import keys
from .offline import signing
from .selectors import decision_entry_for_trace
from .services import entries as entry_svc
from .services import grants as grant_svc
from .services import model_keys as key_svc
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
    ids["signed"] = _signed_review(actor=actor, project=project, caio=caio, oversight=oversight)
    integrate_pending()
    return ids


REVIEWER = {"model_id": "review-bot", "provider": "icdev-demo", "model_version": "2", "session_id": "sess-demo-2"}


def _signed_review(*, actor, project: Project, caio, oversight: dict) -> str:
    """A code review signed by the reviewing model. Its private key is made here and dropped at once (a
    real model keeps its own): the demo shows a registered key and a signature that verifies."""
    private = Ed25519PrivateKey.generate()
    grant_svc.scope_grant_create(
        actor=caio,
        project=project,
        model_id=REVIEWER["model_id"],
        action_types=["code.review"],
        reason="Automated first review of pull requests to the screening service.",
    )
    key_svc.model_key_register(
        actor=caio,
        project=project,
        model_id=REVIEWER["model_id"],
        public_key=signing.b64(private.public_key().public_bytes_raw()),
        reason="The review bot signs every review it records.",
    )
    record = {
        "project": project.key,
        "entry_type": "action",
        "actor": REVIEWER,
        "action": {
            "type": "code.review",
            "description": "Reviewed PR 418 (income threshold configuration): one finding",
            "rationale": "The threshold is read from two places; the pull request changes only one.",
        },
        "context": {"task_id": "PR-418"},
        "accountability": {
            "human_oversight": "audit",
            "reversibility": "reversible",
            "responsibility": {"oversight": oversight},
        },
        "occurred_at": timezone.now().isoformat(),
    }
    record = signing.sign(private, keys.origin(), record)
    result = entry_svc.ledger_entry_append(
        actor=actor,
        project=project,
        entry_type=record["entry_type"],
        performer=record["actor"],
        action=record["action"],
        context=record["context"],
        accountability=record["accountability"],
        signed_record=record,
    )
    return result.entry_id
