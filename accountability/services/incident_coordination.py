"""Incident response coordination (seed 000) and EU AI Act Art. 73 reporting.

Each active stakeholder party of an affected use case gets a notice due within its contractual
``incident_notification_hours`` (else the configured default); informing it and its acknowledgement are
recorded. Serious incidents under the EU AI Act get an authority-report deadline (15 / 10 / 2 days) and
provider- and authority-notified timestamps.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from accountability.actors import history_user
from accountability.config import policy
from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import ContractualObligation, Incident, IncidentStakeholderNotice, Stakeholder
from accountability.permissions import Perm, require
from accountability.rules.incidents import eu_report_due_at

from ._common import jsonable, raise_if, tracked_save
from ._dispatch import enqueue_on_commit
from ._incident_common import Kind, add_event, locked, when

log = logging.getLogger(__name__)
Channel = IncidentStakeholderNotice.Channel
STAKEHOLDER_EMAIL_TASK = "incidents.email_stakeholders"


# --- stakeholder coordination -------------------------------------------------------------------


def create_stakeholder_notices(
    incident: Incident, use_case_ids: Sequence[int], *, actor
) -> list[IncidentStakeholderNotice]:
    """Create the missing notices for the active parties of the given use cases (part of a service)."""
    if not use_case_ids:
        return []
    parties = Stakeholder.objects.filter(use_case_id__in=use_case_ids, is_active=True).exclude(
        incident_notices__incident=incident
    )
    default_hours = policy()["incidents"]["stakeholder_notification_default_hours"]
    obligations = {
        row["stakeholder_id"]: row
        for row in ContractualObligation.objects.filter(
            stakeholder__in=parties,
            sla_metric=ContractualObligation.Metric.INCIDENT_NOTIFICATION_HOURS,
            status=ContractualObligation.Status.ACTIVE,
        )
        .values("stakeholder_id")
        .annotate(hours=Min("sla_target"), obligation_id=Min("id"))
    }
    notices = []
    for party in parties:
        ob = obligations.get(party.pk)
        hours = float(ob["hours"]) if ob else default_hours
        notice = IncidentStakeholderNotice(
            project=incident.project,
            incident=incident,
            stakeholder=party,
            obligation_id=ob["obligation_id"] if ob else None,
            due_at=incident.reported_at + dt.timedelta(hours=hours),
        )
        tracked_save(notice, actor=actor, reason="notice due")
        notices.append(notice)
    return notices


def send_stakeholder_notices(
    *, actor, incident: Incident, notices: Sequence[IncidentStakeholderNotice], automatic: bool = False
) -> list[IncidentStakeholderNotice]:
    """E-mail the parties that have a contact address and record them informed (part of a service)."""
    now = timezone.now()
    sent = []
    for notice in notices:
        if notice.notified_at is not None or not notice.stakeholder.contact_email:
            continue
        notice.notified_at, notice.channel, notice.notified_by = now, Channel.EMAIL, history_user(actor)
        tracked_save(notice, actor=actor, reason="party informed by e-mail")
        sent.append(notice)
    if not sent:
        return []
    names = ", ".join(n.stakeholder.name for n in sent)
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.notify_stakeholders",
        description=f"{incident.public_id}: {len(sent)} stakeholder part{'y' if len(sent) == 1 else 'ies'} informed",
        subject=incident,
        changes={"stakeholders": [n.stakeholder.public_id for n in sent], "channel": "email", "automatic": automatic},
    )
    add_event(incident, Kind.STAKEHOLDER_NOTIFIED, actor=actor, message=f"Informed by e-mail: {names}.", ledger=entry)
    enqueue_on_commit(STAKEHOLDER_EMAIL_TASK, [n.pk for n in sent])
    return sent


def incident_stakeholder_emails_send(*, notice_ids: Sequence[int]) -> int:
    """Send the e-mails of recorded stakeholder notices (called by the task after commit)."""
    sent = 0
    for notice in IncidentStakeholderNotice.objects.filter(pk__in=notice_ids).select_related("incident", "stakeholder"):
        incident = notice.incident
        body = (
            f"Incident {incident.public_id} ({incident.severity}, {incident.incident_type}) affects a use case "
            f"you share responsibility for.\n\n{incident.title}\n{incident.description}\n\n"
            f"Please acknowledge by {when(notice.due_at)} and reply with your contact for the response."
        )
        try:
            send_mail(
                f"[icdev] AI incident {incident.public_id}: {incident.title}"[:200],
                body,
                settings.DEFAULT_FROM_EMAIL,
                [notice.stakeholder.contact_email],
            )
            sent += 1
        except Exception:  # a failed e-mail is logged; staff see the notice without acknowledgement
            log.exception("stakeholder e-mail for notice %s failed", notice.pk)
    return sent


def _notice_locked(notice: IncidentStakeholderNotice) -> IncidentStakeholderNotice:
    return (
        IncidentStakeholderNotice.objects.select_for_update(of=("self",))
        .select_related("stakeholder", "incident")
        .get(pk=notice.pk)
    )


@transaction.atomic
def incident_notify_stakeholders(*, actor, incident: Incident) -> list[IncidentStakeholderNotice]:
    """Inform (by e-mail) every party of the affected use cases not informed yet; returns those informed."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    create_stakeholder_notices(incident, list(incident.use_cases.values_list("pk", flat=True)), actor=actor)
    pending = list(incident.stakeholder_notices.filter(notified_at__isnull=True).select_related("stakeholder"))
    if not pending:
        raise InvalidTransition(f"Every party of {incident.public_id} has been informed already.")
    if not any(n.stakeholder.contact_email for n in pending):
        raise ValidationFailed({"contact_email": ["No pending party has an e-mail address; record the notice."]})
    return send_stakeholder_notices(actor=actor, incident=incident, notices=pending)


@transaction.atomic
def incident_record_stakeholder_notice(
    *, actor, notice: IncidentStakeholderNotice, channel: str, notified_at: dt.datetime | None = None
) -> IncidentStakeholderNotice:
    """Record that a party was informed another way (phone, ticket)."""
    require(actor, notice.project, Perm.INCIDENT_MANAGE)
    notice = _notice_locked(notice)
    if notice.notified_at is not None:
        raise InvalidTransition(f"{notice.stakeholder.name} was informed at {notice.notified_at:%Y-%m-%d %H:%M}.")
    now = timezone.now()
    notified_at = notified_at or now
    errors = {}
    if channel not in Channel.values:
        errors["channel"] = [f"Must be one of: {', '.join(Channel.values)}."]
    if notified_at > now:
        errors["notified_at"] = ["Cannot be in the future."]
    elif notified_at < notice.incident.reported_at - dt.timedelta(days=1):
        errors["notified_at"] = ["Cannot be before the incident was reported."]
    raise_if(errors)
    notice.notified_at, notice.channel, notice.notified_by = notified_at, channel, history_user(actor)
    tracked_save(notice, actor=actor, reason=f"party informed ({channel})")
    entry = record_governance(
        actor=actor,
        project=notice.project,
        action_type="incident.stakeholder_notice",
        description=f"{notice.incident.public_id}: {notice.stakeholder.name} informed by {channel}",
        subject=notice.incident,
        changes=jsonable({"stakeholder": notice.stakeholder.public_id, "channel": channel, "at": notified_at}),
    )
    add_event(
        notice.incident,
        Kind.STAKEHOLDER_NOTIFIED,
        actor=actor,
        message=f"{notice.stakeholder.name} informed by {channel}" + (" (late)." if notice.is_late else "."),
        ledger=entry,
    )
    return notice


@transaction.atomic
def incident_record_stakeholder_ack(
    *,
    actor,
    notice: IncidentStakeholderNotice,
    acknowledged_by_name: str,
    acknowledgement: str = "",
    acknowledged_at: dt.datetime | None = None,
) -> IncidentStakeholderNotice:
    """Record a party's acknowledgement of the incident (who at the party, when, what they said)."""
    require(actor, notice.project, Perm.INCIDENT_MANAGE)
    notice = _notice_locked(notice)
    if notice.notified_at is None:
        raise InvalidTransition(f"{notice.stakeholder.name} has not been informed yet.")
    if notice.acknowledged_at is not None:
        raise InvalidTransition(f"{notice.stakeholder.name} acknowledged at {notice.acknowledged_at:%Y-%m-%d %H:%M}.")
    now = timezone.now()
    acknowledged_at = acknowledged_at or now
    errors = {}
    if not (acknowledged_by_name or "").strip():
        errors["acknowledged_by_name"] = ["Who at the party acknowledged?"]
    if acknowledged_at > now:
        errors["acknowledged_at"] = ["Cannot be in the future."]
    elif acknowledged_at < notice.notified_at:
        errors["acknowledged_at"] = ["Cannot be before the party was informed."]
    raise_if(errors)
    notice.acknowledged_at = acknowledged_at
    notice.acknowledged_by_name = acknowledged_by_name.strip()
    notice.acknowledgement = (acknowledgement or "").strip()
    tracked_save(notice, actor=actor, reason="acknowledged")
    entry = record_governance(
        actor=actor,
        project=notice.project,
        action_type="incident.stakeholder_ack",
        description=f"{notice.incident.public_id}: {notice.stakeholder.name} acknowledged",
        subject=notice.incident,
        changes=jsonable({"stakeholder": notice.stakeholder.public_id, "by": notice.acknowledged_by_name}),
        rationale=notice.acknowledgement,
    )
    add_event(
        notice.incident,
        Kind.STAKEHOLDER_ACK,
        actor=actor,
        message=f"{notice.stakeholder.name} acknowledged ({notice.acknowledged_by_name}).",
        ledger=entry,
    )
    return notice


# --- EU AI Act Art. 73 ---------------------------------------------------------------------------


@transaction.atomic
def incident_flag_eu_serious(
    *, actor, incident: Incident, basis: str, aware_at: dt.datetime | None = None, note: str = ""
) -> Incident:
    """Flag (or re-classify) an EU AI Act serious incident; the Art. 73 report deadline runs from awareness."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    now = timezone.now()
    aware_at = aware_at or incident.eu_aware_at or now
    errors = {}
    if basis not in Incident.EUBasis.values:
        errors["basis"] = [f"Must be one of: {', '.join(Incident.EUBasis.values)}."]
    if aware_at > now:
        errors["aware_at"] = ["Cannot be in the future."]
    raise_if(errors)
    if incident.eu_authority_notified_at is not None:
        raise InvalidTransition(f"The authority was informed of {incident.public_id}; the classification is final.")
    before = {"eu_serious": incident.eu_serious, "basis": incident.eu_basis, "due": incident.eu_report_due_at}
    incident.eu_serious, incident.eu_basis, incident.eu_aware_at = True, basis, aware_at
    incident.eu_report_due_at = eu_report_due_at(aware_at, basis)
    if incident.eu_report_due_at > now:
        incident.eu_overdue_at = None
    tracked_save(incident, actor=actor, reason=f"EU serious incident ({basis})")
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.eu_flag",
        description=f"{incident.public_id} is an EU AI Act serious incident ({basis}); report by "
        f"{when(incident.eu_report_due_at)}",
        subject=incident,
        changes=jsonable({"before": before, "basis": basis, "aware_at": aware_at, "due": incident.eu_report_due_at}),
        rationale=note,
    )
    add_event(
        incident,
        Kind.EU_FLAGGED,
        actor=actor,
        message=f"EU serious incident ({Incident.EUBasis(basis).label}); authority report due "
        f"{when(incident.eu_report_due_at)}. {note}".strip(),
        ledger=entry,
    )
    return incident


@transaction.atomic
def incident_clear_eu_serious(*, actor, incident: Incident, reason: str) -> Incident:
    """Withdraw the serious-incident classification (e.g. no causal link was established)."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    if not incident.eu_serious:
        raise InvalidTransition(f"{incident.public_id} is not flagged as an EU serious incident.")
    if incident.eu_authority_notified_at is not None:
        raise InvalidTransition(f"The authority was informed of {incident.public_id}; the classification is final.")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why it is not a serious incident."]})
    incident.eu_serious, incident.eu_basis, incident.eu_report_due_at, incident.eu_overdue_at = False, "", None, None
    tracked_save(incident, actor=actor, reason="EU classification withdrawn")
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type="incident.eu_unflag",
        description=f"{incident.public_id} is no longer an EU serious incident",
        subject=incident,
        rationale=reason,
    )
    add_event(incident, Kind.EU_FLAGGED, actor=actor, message=f"EU classification withdrawn: {reason}", ledger=entry)
    return incident


@transaction.atomic
def incident_record_eu_notification(
    *, actor, incident: Incident, party: str, notified_at: dt.datetime | None = None, reference: str = ""
) -> Incident:
    """Record when the provider (Art. 26(5)) or the market surveillance authority (Art. 73) was informed."""
    require(actor, incident.project, Perm.INCIDENT_MANAGE)
    incident = locked(incident)
    if not incident.eu_serious:
        raise InvalidTransition(f"{incident.public_id} is not flagged as an EU serious incident.")
    now = timezone.now()
    notified_at = notified_at or now
    errors = {}
    if party not in ("provider", "authority"):
        errors["party"] = ["Must be provider or authority."]
    if notified_at > now:
        errors["notified_at"] = ["Cannot be in the future."]
    raise_if(errors)
    field = f"eu_{party}_notified_at"
    if getattr(incident, field) is not None:
        raise InvalidTransition(f"The {party} was informed at {getattr(incident, field):%Y-%m-%d %H:%M}.")
    setattr(incident, field, notified_at)
    if party == "authority":
        incident.eu_authority_reference = (reference or "").strip()
    tracked_save(incident, actor=actor, reason=f"EU {party} informed")
    late = party == "authority" and notified_at > incident.eu_report_due_at
    entry = record_governance(
        actor=actor,
        project=incident.project,
        action_type=f"incident.eu_notify_{party}",
        description=f"{incident.public_id}: {party} informed" + (" after the deadline" if late else ""),
        subject=incident,
        changes=jsonable({"party": party, "notified_at": notified_at, "reference": reference}),
    )
    add_event(
        incident,
        Kind.EU_NOTIFIED,
        actor=actor,
        message=f"{party.capitalize()} informed at {when(notified_at)}"
        + (" (after the deadline)" if late else "")
        + (f"; reference {reference}" if reference else "")
        + ".",
        ledger=entry,
    )
    return incident
