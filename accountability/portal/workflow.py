"""Portal pages of appeals and ethics reviews: submit an appeal, my appeals, an appeal's page (add
information, withdraw, decide, escalate, assign), my review tasks, an ethics review and its scoring form.
Reads go through the selectors, writes through the services; other people's rows are 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accountability.exceptions import AccountabilityError, NotAllowed, NotFound
from accountability.models import Appeal, EthicsReview
from accountability.permissions import Perm, has_perm, visible_projects
from accountability.selectors import appeals as appeal_sel
from accountability.selectors import ethics as ethics_sel
from accountability.selectors import registry as reg_sel
from accountability.selectors import workflow as task_sel
from accountability.services import appeals as appeal_svc
from accountability.services import ethics as ethics_svc
from accountability.services import ethics_scores as scores_svc

from . import forms as f


def _found(getter, *args):
    try:
        return getter(*args)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _run(request, form, call, success: str) -> bool:
    """Call a service for a valid form; show its error on the form. True when it succeeded."""
    if not form.is_valid():
        return False
    try:
        call()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except AccountabilityError as exc:
        f.show_error(form, exc)
        return False
    messages.success(request, success)
    return True


# --- appeals ------------------------------------------------------------------------------------------


@login_required
def appeal_list(request):
    """My appeals: the ones I submitted as appellant."""
    mine = appeal_sel.appeal_list(request.user).filter(appellant=request.user)
    can_submit = visible_projects(request.user, Perm.APPEAL_SUBMIT).exists()
    return render(request, "portal/appeals/list.html", {"appeals": mine, "can_submit": can_submit})


@login_required
@require_http_methods(["GET", "POST"])
def appeal_new(request):
    """Submit an appeal against an AI decision."""
    projects = list(visible_projects(request.user, Perm.APPEAL_SUBMIT).order_by("key"))
    if not projects:
        raise PermissionDenied("None of your roles lets you submit an appeal.")
    form = f.AppealForm(request.POST or None, projects=projects)
    created = {}

    def submit():
        project = reg_sel.project_get(request.user, form.cleaned_data["project"])
        created["appeal"] = appeal_svc.appeal_submit(
            actor=request.user,
            project=project,
            decision_trace_id=form.cleaned_data["decision_trace_id"],
            reason=form.cleaned_data["reason"],
        )

    if request.method == "POST" and _run(request, form, submit, "Your appeal was submitted."):
        return redirect("portal:appeal", public_id=created["appeal"].public_id)
    return render(request, "portal/appeals/new.html", {"form": form}, status=400 if form.errors else 200)


def _appeal_forms(request, appeal: Appeal) -> dict:
    user, data = request.user, request.POST or None
    chosen = request.POST.get("action") if request.method == "POST" else None
    forms = {}
    if appeal.is_open and appeal_sel.appeal_is_own(user, appeal):
        forms["information"] = f.InformationForm(data if chosen == "information" else None)
        forms["withdraw"] = f.WithdrawForm(data if chosen == "withdraw" else None)
    if appeal.status == Appeal.Status.SUBMITTED and has_perm(user, appeal.project, Perm.APPEAL_COORDINATE):
        candidates = appeal_sel.appeal_reviewer_candidates(user, appeal)
        forms["assign"] = f.AssignForm(data if chosen == "assign" else None, candidates=candidates)
    deciding = (appeal.status == Appeal.Status.UNDER_REVIEW and appeal.reviewer_id == user.pk) or (
        appeal.status == Appeal.Status.ESCALATED and appeal_sel.appeal_can_decide_escalation(user, appeal)
    )
    if deciding:
        forms["resolve"] = f.ResolveForm(data if chosen == "resolve" else None)
    if appeal.status == Appeal.Status.UNDER_REVIEW and appeal.reviewer_id == user.pk:
        forms["escalate"] = f.EscalateForm(data if chosen == "escalate" else None)
    return forms


@login_required
@require_http_methods(["GET", "POST"])
def appeal_detail(request, public_id):
    """One appeal: the appellant's view or the case file, with the forms of the reader's next step."""
    appeal = _found(appeal_sel.appeal_get, request.user, public_id)
    forms = _appeal_forms(request, appeal)
    action = request.POST.get("action")
    if request.method == "POST":
        form = forms.get(action)
        if form is None:
            raise PermissionDenied("That step is not yours to take on this appeal.")
        calls = {
            "information": lambda: appeal_svc.appeal_add_information(
                actor=request.user, appeal=appeal, **form.cleaned_data
            ),
            "withdraw": lambda: appeal_svc.appeal_withdraw(
                actor=request.user, appeal=appeal, reason=form.cleaned_data["reason"]
            ),
            "assign": lambda: appeal_svc.appeal_assign_reviewer(
                actor=request.user, appeal=appeal, reviewer=form.cleaned_data["reviewer"]
            ),
            "resolve": lambda: appeal_svc.appeal_resolve(actor=request.user, appeal=appeal, **form.cleaned_data),
            "escalate": lambda: appeal_svc.appeal_escalate(actor=request.user, appeal=appeal, **form.cleaned_data),
        }
        if _run(request, form, calls[action], "Done."):
            return redirect("portal:appeal", public_id=appeal.public_id)
    context = {
        "appeal": appeal,
        "case_file": appeal_sel.appeal_sees_case_file(request.user, appeal),
        "notes": appeal_sel.appeal_notes(request.user, appeal),
        "forms": forms,
        "steps": task_sel.process_tasks(appeal) if appeal_sel.appeal_sees_case_file(request.user, appeal) else [],
    }
    return render(request, "portal/appeals/detail.html", context, status=400 if request.method == "POST" else 200)


# --- tasks --------------------------------------------------------------------------------------------


@login_required
def task_list(request):
    """My review tasks: steps assigned to me, and unclaimed steps my roles may take."""

    def rows(qs):
        return [(task, task_sel.task_subject(task), task_sel.step_label(task)) for task in qs]

    context = {
        "inbox": rows(task_sel.task_list(request.user, "inbox")),
        "queue": rows(task_sel.task_list(request.user, "queue")),
    }
    return render(request, "portal/tasks.html", context)


@login_required
def task_open(request, pk):
    """Open a step: the page where it is completed."""
    task = _found(task_sel.task_get, request.user, pk)
    subject = task_sel.task_subject(task)
    if isinstance(subject, Appeal):
        return redirect("portal:appeal", public_id=subject.public_id)
    if task.flow_task.name == "score":
        return redirect("portal:ethics-score", public_id=subject.public_id)
    return redirect("portal:ethics-review", public_id=subject.public_id)


# --- ethics reviews -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request, public_id):
    """One ethics review: board, versions, the scores the reader may see, and decide / revise forms."""
    review = _found(ethics_sel.ethics_review_get, request.user, public_id)
    user, chosen = request.user, request.POST.get("action")
    forms = {}
    if (
        review.status == EthicsReview.Status.IN_PROGRESS
        and review.submitted_by_id != user.pk
        and has_perm(user, review.project, Perm.ETHICS_DECIDE)
    ):
        forms["decide"] = f.DecideForm(request.POST if chosen == "decide" else None)
    if review.status == EthicsReview.Status.REQUIRES_CHANGES and review.submitted_by_id == user.pk:
        forms["revise"] = f.ReviseForm(request.POST if chosen == "revise" else None)
    if request.method == "POST":
        form = forms.get(chosen)
        if form is None:
            raise PermissionDenied("That step is not yours to take on this review.")
        service = ethics_svc.ethics_review_decide if chosen == "decide" else ethics_svc.ethics_review_revise
        if _run(request, form, lambda: service(actor=user, review=review, **form.cleaned_data), "Done."):
            return redirect("portal:ethics-review", public_id=review.public_id)
    context = {
        "review": review,
        "board": ethics_sel.board_list(review),
        "versions": ethics_sel.version_list(user, review),
        "scores": ethics_sel.score_list(user, review),
        "forms": forms,
        "can_score": ethics_sel.is_board_member(user, review) and review.status == EthicsReview.Status.IN_PROGRESS,
    }
    return render(request, "portal/ethics/detail.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def review_score(request, public_id):
    """Score a review (board members): rubric scores or a recusal for a declared conflict of interest."""
    review = _found(ethics_sel.ethics_review_get, request.user, public_id)
    if not ethics_sel.is_board_member(request.user, review):
        raise PermissionDenied("Only this review's board members score it.")
    form = f.ScoreForm(request.POST or None, rubric=review.rubric)

    def submit():
        scores_svc.ethics_score_submit(
            actor=request.user,
            review=review,
            conflict_of_interest=form.cleaned_data["conflict_of_interest"],
            scores=form.scores(),
            comments=form.cleaned_data["comments"],
            conflict_details=form.cleaned_data["conflict_details"],
        )

    if request.method == "POST" and _run(request, form, submit, "Your score was recorded."):
        return redirect("portal:ethics-review", public_id=review.public_id)
    mine = ethics_sel.score_list(request.user, review).filter(reviewer=request.user, version__version=review.version)
    context = {"review": review, "form": form, "already": mine.first(), "version": ethics_sel.current_version(review)}
    return render(request, "portal/ethics/score.html", context, status=400 if form.errors else 200)
