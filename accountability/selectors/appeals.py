"""Reads of appeals. Staff, the CAIO and auditors see a project's appeals; an appellant sees only their
own; a reviewer the appeals assigned to them; an escalation official those escalated to them."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from accountability.actors import is_system
from accountability.exceptions import NotFound
from accountability.models import Appeal, AppealNote, CAIODesignation, Membership, Project
from accountability.permissions import Perm, has_perm, is_unrestricted, project_ids_with

from ._scope import get_by_public_id


def appeal_list(actor, project: Project | None = None) -> QuerySet[Appeal]:
    """Appeals the actor may read (their own, assigned, escalated to them, or all of a project they oversee)."""
    qs = Appeal.objects.select_related("project", "use_case", "appellant", "reviewer", "escalated_to")
    if project is not None:
        qs = qs.filter(project=project)
    ids = project_ids_with(actor, Perm.APPEAL_VIEW)
    if ids is None:
        return qs
    if actor is None or is_system(actor) or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return qs.none()
    return qs.filter(Q(project__in=ids) | Q(appellant=actor) | Q(reviewer=actor) | Q(escalated_to=actor))


def appeal_get(actor, public_id: str, project: Project | None = None) -> Appeal:
    """One visible appeal by its public id (``APL-00001``); NotFound otherwise."""
    return get_by_public_id(Appeal, appeal_list(actor, project), public_id)


def appeal_is_own(actor, appeal: Appeal) -> bool:
    """Whether the actor is the appeal's appellant."""
    return bool(appeal.appellant_id) and appeal.appellant_id == getattr(actor, "pk", None)


def appeal_sees_case_file(actor, appeal: Appeal) -> bool:
    """Whether the actor sees the whole case (staff, CAIO, auditors, the reviewer, the escalation
    official) rather than the appellant's view."""
    if has_perm(actor, appeal.project, Perm.APPEAL_VIEW):
        return True
    pk = getattr(actor, "pk", None)
    return pk is not None and pk in (appeal.reviewer_id, appeal.escalated_to_id)


def appeal_notes(actor, appeal: Appeal) -> QuerySet[AppealNote]:
    """Information added to a visible appeal."""
    appeal_get(actor, appeal.public_id)
    return appeal.notes.select_related("author")


def appeal_user_is_reviewer_candidate(user, appeal: Appeal) -> bool:
    """Whether ``user`` may be assigned: holds the reviewer role, is not the appellant and took no part in
    the contested decision."""
    if user is None or not user.is_active or not has_perm(user, appeal.project, Perm.APPEAL_REVIEW):
        return False
    if appeal.appellant_id == user.pk:
        return False
    return not appeal.decision_takers.filter(pk=user.pk).exists()


def appeal_reviewer_candidates(actor, appeal: Appeal) -> list:
    """Users the coordinator may assign to ``appeal``."""
    appeal_get(actor, appeal.public_id)
    users = (
        get_user_model()
        .objects.filter(
            icdev_memberships__project=appeal.project, icdev_memberships__role=Membership.Role.REVIEWER, is_active=True
        )
        .distinct()
    )
    return [u for u in users.order_by("username") if appeal_user_is_reviewer_candidate(u, appeal)]


@dataclass(frozen=True)
class EscalationTarget:
    """Who an escalated appeal goes to: a user, or (user None) the project's CAIO-role queue."""

    user: object | None
    label: str


_SCOPE_RANK = {CAIODesignation.Scope.PROJECT: 0, CAIODesignation.Scope.PROGRAM: 1, CAIODesignation.Scope.AGENCY: 2}


def _covers(link: dict, appeal: Appeal) -> bool:
    """Whether a delegation link's scope covers the appeal's use case."""
    ref = (link.get("scope_ref") or "").strip().casefold()
    if link["scope"] == CAIODesignation.Scope.AGENCY or not ref:
        return True
    if link["scope"] == CAIODesignation.Scope.PROGRAM:
        return ref == appeal.project.program.strip().casefold()
    names = {appeal.project.key.casefold()}
    if appeal.use_case_id:
        names |= {appeal.use_case.public_id.casefold(), appeal.use_case.name.strip().casefold()}
    return ref in names


def _active_link(link: dict, today) -> bool:
    start, end = link.get("start_date"), link.get("end_date")
    return (not start or start <= today.isoformat()) and (not end or end >= today.isoformat())


def escalation_target(appeal: Appeal) -> EscalationTarget:
    """The official an escalation goes to: the delegate holding ``appeal_escalation`` with the narrowest
    scope covering the use case (deepest in the chain first), else the CAIO, skipping anyone without an
    account in the project or with a conflict (appellant, reviewer, decision takers); else the CAIO queue."""
    today = timezone.localdate()
    conflicted = {appeal.appellant_id, appeal.reviewer_id, *appeal.decision_takers.values_list("pk", flat=True)}
    members = get_user_model().objects.filter(icdev_memberships__project=appeal.project, is_active=True).distinct()
    designation = (
        CAIODesignation.objects.filter(project=appeal.project).active(today).order_by("-effective_date", "-id").first()
    )
    if designation is not None:
        links = [
            (i, link)
            for i, link in enumerate(designation.delegation_chain)
            if "appeal_escalation" in link.get("powers", []) and _active_link(link, today) and _covers(link, appeal)
        ]
        links.sort(key=lambda item: (_SCOPE_RANK.get(item[1]["scope"], 9), -item[0]))
        for _i, link in links:
            user = members.filter(email__iexact=link["delegate_email"]).exclude(pk__in=conflicted).first()
            if user is not None:
                return EscalationTarget(
                    user, f"{link['delegate_name']} (delegated appeal escalation, {link['scope']} scope)"
                )
        official = designation.official
        if official is not None and official.pk not in conflicted and members.filter(pk=official.pk).exists():
            return EscalationTarget(official, f"{designation.official_name} (Chief AI Officer)")
    return EscalationTarget(None, f"the Chief AI Officer role of {appeal.project.key}")


def escalation_queue_users(appeal: Appeal) -> list:
    """CAIO-role members who may take an escalation left to the queue (no conflicted person)."""
    conflicted = {appeal.appellant_id, appeal.reviewer_id, *appeal.decision_takers.values_list("pk", flat=True)}
    return list(
        get_user_model()
        .objects.filter(
            icdev_memberships__project=appeal.project, icdev_memberships__role=Membership.Role.CAIO, is_active=True
        )
        .exclude(pk__in=[pk for pk in conflicted if pk])
        .distinct()
    )


def appeal_can_decide_escalation(actor, appeal: Appeal) -> bool:
    """Whether the actor decides this escalated appeal."""
    if appeal.escalated_to_id:
        return appeal.escalated_to_id == getattr(actor, "pk", None)
    if is_unrestricted(actor):
        return True
    return has_perm(actor, appeal.project, Perm.APPEAL_ESCALATION) and actor in escalation_queue_users(appeal)


def require_visible(actor, appeal: Appeal) -> Appeal:
    """Re-read ``appeal`` through the actor's scope; NotFound when it is not theirs to see."""
    try:
        return appeal_list(actor).get(pk=appeal.pk)
    except Appeal.DoesNotExist as exc:
        raise NotFound(f"No appeal {appeal.public_id!r}.") from exc
