"""viewflow processes of appeals and ethics reviews. Flows only route: every node body calls a service,
human steps are completed by services (``accountability.services.appeals`` / ``.ethics``), which check
the actor's role first because viewflow transitions do not. Node and flow names are stored in the
database: never rename them without a data migration."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import redirect
from django.utils import timezone
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.nodes.split import SplitActivation

from accountability.actors import SystemActor
from accountability.flow_lock import process_lock
from accountability.models import AppealProcess, BoardMember, EthicsReviewProcess
from accountability.selectors import ethics as ethics_sel
from accountability.services import appeal_sla
from accountability.services import appeals as appeal_svc
from accountability.services import ethics as ethics_svc
from accountability.services import ethics_scores as scores_svc

FLOW_ACTOR = SystemActor("workflow:flow")


def task_page(request, *args, **kwargs):
    """viewflow's task views are not mounted; if they ever are, send people to the portal's task page,
    which completes the step through the services."""
    task = getattr(getattr(request, "activation", None), "task", None)
    return redirect(f"/portal/tasks/{task.pk}/" if task is not None else "/portal/tasks/")


class AppealFlow(flow.Flow):
    """Appeal of an AI decision: assign a reviewer (business-day SLA), review, escalate, close."""

    process_class = AppealProcess
    lock_impl = process_lock  # select_for_update on the process row (see accountability.flow_lock)
    process_title = "Appeal"

    start = flow.StartHandle(this.begin).Next(this.assign_reviewer)
    assign_reviewer = (
        flow.View(task_page)
        .OnTimeout(this.assignment_deadline, this.flag_assignment_breach, interrupting=False)
        .Next(this.review)
    )
    flag_assignment_breach = flow.Function(this.on_assignment_breach).Next(this.breach_noted)
    breach_noted = flow.End()
    review = flow.View(task_page).Assign(this.reviewer_of).Next(this.route)
    route = flow.If(this.is_escalated).Then(this.escalate).Else(this.close)
    escalate = flow.View(task_page).Assign(this.escalation_owner).Next(this.close)
    close = flow.Function(this.notify_outcome).Next(this.end)
    end = flow.End()

    def begin(self, activation, appeal):
        activation.process.appeal = appeal

    def assignment_deadline(self, activation) -> dt.datetime:
        return activation.process.appeal.assignment_due_at

    def on_assignment_breach(self, activation):
        appeal_sla.appeal_flag_assignment_breach(actor=appeal_sla.SLA_ACTOR, appeal=activation.process.appeal)

    def reviewer_of(self, activation):
        return activation.process.appeal.reviewer

    def is_escalated(self, activation) -> bool:
        return activation.process.appeal.status == activation.process.appeal.Status.ESCALATED

    def escalation_owner(self, activation):
        return activation.process.appeal.escalated_to  # None: the CAIO-role queue claims it

    def notify_outcome(self, activation):
        appeal_svc.appeal_notify_outcome(actor=FLOW_ACTOR, appeal=activation.process.appeal)


class BoardSplitActivation(SplitActivation):
    """One scoring branch per board member who owes a result for the current version."""

    @Activation.status.super()
    def activate(self):
        review = self.process.review
        pending = ethics_sel.members_to_score(review)
        for node, _cond, _source in self.flow_task._branches:
            self.next_tasks.extend((node, {"member_id": m.pk, "version": review.version}) for m in pending)
        if not self.next_tasks:
            raise ValueError(f"{review.public_id} has no board member to score version {review.version}.")


class BoardSplit(flow.Split):
    """A parallel split with one branch per board member (core viewflow has no ``data_source``)."""

    activation_class = BoardSplitActivation


class EthicsReviewFlow(flow.Flow):
    """Ethics review: parallel scoring by the board (each with a timeout), a quorum join, a decision,
    and a revise-and-rescore loop when changes are requested."""

    process_class = EthicsReviewProcess
    lock_impl = process_lock  # select_for_update on the process row (see accountability.flow_lock)
    process_title = "Ethics review"

    start = flow.StartHandle(this.begin).Next(this.open_round)
    open_round = flow.Function(this.on_open_round).Next(this.fan_out)
    fan_out = BoardSplit().Next(this.score)
    score = (
        flow.View(task_page)
        .Assign(this.scorer_of)
        .OnTimeout(this.score_deadline, this.note_missed_score, interrupting=True)
        .Next(this.quorum)
    )
    note_missed_score = flow.Function(this.on_missed_score).Next(this.quorum)
    quorum = flow.Join(continue_on_condition=this.quorum_settled).Next(this.tally)
    tally = flow.Function(this.on_tally).Next(this.decide)
    decide = flow.View(task_page).Next(this.route)
    route = flow.If(this.changes_requested).Then(this.revise).Else(this.end)
    revise = flow.View(task_page).Assign(this.submitter_of).Next(this.open_round)
    end = flow.End()

    def begin(self, activation, review):
        activation.process.review = review

    def on_open_round(self, activation):
        ethics_svc.ethics_review_open_round(actor=FLOW_ACTOR, review=activation.process.review)

    def scorer_of(self, activation):
        return BoardMember.objects.select_related("user").get(pk=activation.task.data["member_id"]).user

    def score_deadline(self, activation) -> dt.datetime:
        return timezone.now() + dt.timedelta(days=activation.process.review.score_timeout_days)

    def on_missed_score(self, activation):
        timer = activation.task.previous.get()  # the fired boundary timer; its previous is the scoring task
        host = timer.previous.get()
        scores_svc.ethics_score_record_missed(
            actor=scores_svc.TIMEOUT_ACTOR,
            review=activation.process.review,
            member_id=host.data["member_id"],
            version=host.data["version"],
        )

    def quorum_settled(self, activation, active_tasks) -> bool:
        return ethics_sel.round_can_close_early(activation.process.review)

    def on_tally(self, activation):
        scores_svc.ethics_review_tally(actor=FLOW_ACTOR, review=activation.process.review)

    def changes_requested(self, activation) -> bool:
        return activation.process.review.status == activation.process.review.Status.REQUIRES_CHANGES

    def submitter_of(self, activation):
        return activation.process.review.submitted_by
