"""Provenance records (hash-chained per use case, anchored in the ledger) and the project's content-tracing
policy (versions inserted; draft -> approved -> superseded, or draft -> discarded)."""

from __future__ import annotations

import datetime as dt
import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user, is_system
from accountability.config import policy
from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, ContentTracingPolicy, Membership, Project, ProvenanceRecord
from accountability.models.evidence_tracing import SHA256_RE, TRACE_ID_RE
from accountability.permissions import Perm, require
from accountability.rules.evidence import GENESIS_HASH, ChainReport, record_hash_of
from accountability.selectors.evidence import provenance_chain_problems

from ._common import full_clean, jsonable, raise_if, tracked_save
from ._evidence_common import require_on_use_case

# Clocks of the systems that report provenance drift a little; further in the future is an error.
CLOCK_SKEW = dt.timedelta(minutes=5)


@transaction.atomic
def provenance_record_create(
    *,
    actor,
    use_case: AIUseCase,
    trace_id: str,
    data_sources: list[str],
    model_name: str,
    model_version: str,
    output_reference: str,
    output_hash: str = "",
    generated_at: dt.datetime | None = None,
) -> ProvenanceRecord:
    """Append a provenance record to the use case's chain and anchor its hash in the ledger."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    errors: dict[str, list[str]] = {}
    trace_id = trace_id if isinstance(trace_id, str) else ""
    if not re.fullmatch(TRACE_ID_RE, trace_id):
        errors["trace_id"] = ["A W3C trace id: 32 lower-case hex digits, not all zero."]
    if (
        not isinstance(data_sources, list)
        or not data_sources
        or len(data_sources) > 50
        or any(not isinstance(s, str) or not s.strip() or len(s) > 500 for s in data_sources)
    ):
        errors["data_sources"] = ["Give 1 to 50 data source identifiers (non-empty strings)."]
    for name, value in (
        ("model_name", model_name),
        ("model_version", model_version),
        ("output_reference", output_reference),
    ):
        if not isinstance(value, str) or not value.strip():
            errors[name] = ["This field is required."]
    output_hash = (output_hash or "").strip().lower()
    if output_hash and not re.fullmatch(SHA256_RE, output_hash):
        errors["output_hash"] = ["A SHA-256 digest: 64 hex digits."]
    now = timezone.now()
    generated_at = generated_at or now
    if not isinstance(generated_at, dt.datetime) or timezone.is_naive(generated_at):
        errors["generated_at"] = ["Must be a date-time with a time zone."]
    elif generated_at > now + CLOCK_SKEW:
        errors["generated_at"] = ["Cannot be in the future."]
    raise_if(errors)
    AIUseCase.objects.select_for_update().filter(pk=use_case.pk).first()  # one appender per chain at a time
    previous = ProvenanceRecord.objects.filter(use_case=use_case).order_by("-sequence").first()
    record = ProvenanceRecord(
        project=use_case.project,
        use_case=use_case,
        sequence=(previous.sequence + 1) if previous else 1,
        trace_id=trace_id,
        data_sources=[s.strip() for s in data_sources],
        model_name=model_name.strip(),
        model_version=model_version.strip(),
        output_reference=output_reference.strip(),
        output_hash=output_hash,
        generated_at=generated_at.astimezone(dt.UTC),
        previous_hash=previous.record_hash if previous else GENESIS_HASH,
        chain_status=ProvenanceRecord.ChainStatus.VERIFIED,
        chain_checked_at=now,
        created_by=history_user(actor),
    )
    record.record_hash = record_hash_of(record)
    full_clean(record, exclude=["ledger_entry_id"])
    tracked_save(record, actor=actor, reason="provenance recorded")
    entry = record_governance(
        actor=actor,
        project=use_case.project,
        action_type="provenance.record",
        description=f"{record.public_id}: output {record.output_reference} of {record.model_name} "
        f"{record.model_version} for trace {trace_id}",
        subject=record,
        changes={
            "trace_id": trace_id,
            "sequence": record.sequence,
            "record_hash": record.record_hash,
            "previous_hash": record.previous_hash,
        },
    )
    record.ledger_entry_id = entry.entry_id
    tracked_save(record, actor=actor, reason=f"anchored in {entry.entry_id}")
    return record


@transaction.atomic
def provenance_verify_chain(*, actor, use_case: AIUseCase) -> ChainReport:
    """Re-verify every record of the use case's chain (hash, link, ledger anchor) and store each outcome."""
    require(actor, use_case.project, Perm.EVIDENCE_EDIT)
    AIUseCase.objects.select_for_update().filter(pk=use_case.pk).first()
    report = ChainReport(use_case_id=use_case.public_id)
    now = timezone.now()
    changed = 0
    for record, problem in provenance_chain_problems(use_case):
        report.total += 1
        status = ProvenanceRecord.ChainStatus.BROKEN if problem else ProvenanceRecord.ChainStatus.VERIFIED
        if problem:
            report.broken.append({"id": record.public_id, "sequence": record.sequence, "problem": problem})
        else:
            report.verified += 1
        if (record.chain_status, record.chain_problem) != (status, problem):
            record.chain_status, record.chain_problem, record.chain_checked_at = status, problem, now
            tracked_save(record, actor=actor, reason=f"chain {status}")
            changed += 1
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="provenance.verify_chain",
        description=f"Provenance chain of {use_case.public_id}: {report.verified}/{report.total} records verifiable",
        changes={**report.as_dict(), "status_changes": changed},
    )
    return report


# --- content-tracing policy ------------------------------------------------------------------------------

POLICY_FIELDS = set(ContentTracingPolicy.CONTENT_FIELDS)


@transaction.atomic
def content_tracing_policy_propose(
    *, actor, project: Project, change_summary: str = "", **content
) -> ContentTracingPolicy:
    """Draft the project's next policy version: the latest version's content with ``content`` applied."""
    require(actor, project, Perm.EVIDENCE_EDIT)
    unknown = sorted(set(content) - POLICY_FIELDS)
    if unknown:
        raise ValidationFailed({f: ["Unknown field."] for f in unknown})
    Project.objects.select_for_update().filter(pk=project.pk).first()
    versions = ContentTracingPolicy.objects.filter(project=project).order_by("-version")
    draft = versions.filter(status=ContentTracingPolicy.Status.DRAFT).first()
    if draft is not None:
        raise Conflict(f"{draft.public_id} (v{draft.version}) is a draft; approve or discard it first.")
    latest = versions.first()
    base = {name: getattr(latest, name) for name in POLICY_FIELDS} if latest else {}
    merged = {**base, **{k: v.strip() if isinstance(v, str) else v for k, v in content.items()}}
    errors: dict[str, list[str]] = {}
    owner = merged.get("owner")
    if owner is not None:
        if not isinstance(owner, get_user_model()):
            errors["owner"] = ["Must be a user."]
        elif not Membership.objects.filter(project=project, user=owner).exists():
            errors["owner"] = [f"{owner.get_username()} is not a member of {project.key}."]
        elif not merged.get("owner_name"):
            merged["owner_name"] = owner.get_full_name() or owner.get_username()
    minimum = policy()["evidence"]["min_retention_days"]
    retention = merged.get("retention_days")
    if isinstance(retention, int) and not isinstance(retention, bool) and retention < minimum:
        errors["retention_days"] = [f"Keep tracing records at least {minimum} days (policy minimum)."]
    raise_if(errors)
    version = ContentTracingPolicy(
        project=project,
        version=(latest.version + 1) if latest else 1,
        status=ContentTracingPolicy.Status.DRAFT,
        change_summary=(change_summary or "").strip() or ("Initial version" if latest is None else ""),
        created_by=history_user(actor),
        **merged,
    )
    if latest is not None and not version.change_summary:
        raise ValidationFailed({"change_summary": ["Say what this version changes."]})
    full_clean(version)
    tracked_save(version, actor=actor, reason=f"tracing policy v{version.version} drafted")
    record_governance(
        actor=actor,
        project=project,
        action_type="content_tracing_policy.propose",
        description=f"{version.public_id}: content-tracing policy v{version.version} drafted",
        subject=version,
        changes=jsonable(merged),
        rationale=version.change_summary,
    )
    return version


@transaction.atomic
def content_tracing_policy_approve(*, actor, policy_version: ContentTracingPolicy) -> ContentTracingPolicy:
    """Approve the draft (never by its author); the previously approved version is superseded."""
    require(actor, policy_version.project, Perm.EVIDENCE_APPROVE, "Only governance staff or the CAIO approve it.")
    Project.objects.select_for_update().filter(pk=policy_version.project_id).first()
    draft = ContentTracingPolicy.objects.get(pk=policy_version.pk)
    if draft.status != ContentTracingPolicy.Status.DRAFT:
        raise InvalidTransition(f"{draft.public_id} is {draft.status}; only a draft can be approved.")
    if not is_system(actor) and draft.created_by_id == actor.pk:
        raise NotAllowed("Separation of duties: the author of a policy version cannot approve it.")
    if draft.review_due_on <= timezone.localdate():
        raise ValidationFailed({"review_due_on": ["The review date has passed; set a future review date first."]})
    now = timezone.now()
    previous = ContentTracingPolicy.objects.filter(
        project=draft.project_id, status=ContentTracingPolicy.Status.APPROVED
    ).first()
    if previous is not None:
        previous.status, previous.closed_at = ContentTracingPolicy.Status.SUPERSEDED, now
        tracked_save(previous, actor=actor, reason=f"superseded by v{draft.version}")
    draft.status, draft.approved_by, draft.approved_at = ContentTracingPolicy.Status.APPROVED, history_user(actor), now
    tracked_save(draft, actor=actor, reason="tracing policy approved")
    record_governance(
        actor=actor,
        project=draft.project,
        action_type="content_tracing_policy.approve",
        description=f"{draft.public_id} (v{draft.version}) approved"
        + (f"; {previous.public_id} superseded" if previous else ""),
        subject=draft,
        changes={"approved_version": draft.version, "superseded": previous.public_id if previous else None},
    )
    return draft


@transaction.atomic
def content_tracing_policy_discard(*, actor, policy_version: ContentTracingPolicy, reason: str) -> ContentTracingPolicy:
    """Discard a draft policy version (it stays readable)."""
    require(actor, policy_version.project, Perm.EVIDENCE_EDIT)
    draft = ContentTracingPolicy.objects.select_for_update().get(pk=policy_version.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the draft is discarded."]})
    if draft.status != ContentTracingPolicy.Status.DRAFT:
        raise InvalidTransition(f"{draft.public_id} is {draft.status}; only a draft can be discarded.")
    draft.status, draft.closed_at = ContentTracingPolicy.Status.DISCARDED, timezone.now()
    tracked_save(draft, actor=actor, reason="tracing policy draft discarded")
    record_governance(
        actor=actor,
        project=draft.project,
        action_type="content_tracing_policy.discard",
        description=f"{draft.public_id} (v{draft.version}) discarded",
        subject=draft,
        rationale=reason.strip(),
    )
    return draft
