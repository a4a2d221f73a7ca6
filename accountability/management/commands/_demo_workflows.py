"""Demo appeals and ethics reviews of proj-101, driven through the services and flows like real users."""

from __future__ import annotations

from accountability.ledger.demo import DECISION_TRACE_ID
from accountability.models import AIUseCase, Membership, Project
from accountability.services import appeals as appeal_svc
from accountability.services import ethics as ethics_svc
from accountability.services import ethics_scores as scores_svc
from accountability.services import projects as project_svc

Role = Membership.Role

FAIR = {"rights_impact": 3, "fairness": 2, "privacy": 4, "transparency": 3, "oversight": 4, "accountability": 3}
GOOD = {"rights_impact": 4, "fairness": 4, "privacy": 4, "transparency": 4, "oversight": 5, "accountability": 4}
STRONG = {"rights_impact": 5, "fairness": 4, "privacy": 5, "transparency": 4, "oversight": 5, "accountability": 4}

# Fixed W3C trace ids, so the demo's appeals can be found again. The first is the AI decision the demo
# ledger records (the W3C spec's example): that appeal links its Decision entry.
TRACE_IDS = [
    DECISION_TRACE_ID,
    "0af7651916cd43dd8448eb211c80319c",
    "5b8aa5a2d2c872e8321cf37308d69df2",
    "a3ce929d0e0e47364bf92f3577b34da6",
    "c80319c0af7651916cd43dd8448eb211",
]


def _board(users) -> list[dict]:
    return [
        {"user": users["ethics.board"], "discipline": "civil_rights", "party": "independent"},
        {"user": users["ethics.legal"], "discipline": "legal", "party": "deployer"},
        {"user": users["ethics.community"], "discipline": "affected_community", "party": "affected_community"},
    ]


def _ensure_board_roles(users, project: Project) -> None:
    for username in ("ethics.board", "ethics.legal", "ethics.community"):
        if not Membership.objects.filter(project=project, user=users[username], role=Role.ETHICS_BOARD).exists():
            project_svc.membership_grant(
                actor=users["gov.staff"], project=project, user=users[username], role=Role.ETHICS_BOARD
            )


def review_screener(users, screener: AIUseCase) -> None:
    """The screener's initial review: changes requested in round 1, approved with conditions in round 2."""
    staff, caio = users["gov.staff"], users["caio"]
    _ensure_board_roles(users, screener.project)
    review = ethics_svc.ethics_review_create(
        actor=staff,
        use_case=screener,
        title="Initial ethics review of the eligibility pre-screener",
        summary="Model card v3, algorithmic impact assessment and pilot evaluation (accuracy and error rates).",
        material_url="https://agency.example.gov/ai/screener/review-pack-v1",
        board=_board(users),
        start=True,
    )
    scores_svc.ethics_score_submit(
        actor=users["ethics.board"],
        review=review,
        conflict_of_interest="none",
        scores=FAIR,
        comments="No error rates by age group or household size.",
    )
    scores_svc.ethics_score_submit(actor=users["ethics.legal"], review=review, conflict_of_interest="none", scores=GOOD)
    scores_svc.ethics_score_submit(
        actor=users["ethics.community"], review=review, conflict_of_interest="none", scores=FAIR
    )
    ethics_svc.ethics_review_decide(
        actor=caio,
        review=review,
        outcome="request_changes",
        findings="Fairness evidence is missing: no disparity analysis across age and household size.",
        recommendations="Add a disparity analysis of false negatives and a plain-language notice to applicants.",
    )
    ethics_svc.ethics_review_revise(
        actor=staff,
        review=review,
        summary="Added the disparity analysis (false-negative rates by age band and household size) and the "
        "applicant notice.",
        material_url="https://agency.example.gov/ai/screener/review-pack-v2",
    )
    for username, scores in (("ethics.board", GOOD), ("ethics.legal", STRONG), ("ethics.community", GOOD)):
        scores_svc.ethics_score_submit(actor=users[username], review=review, conflict_of_interest="none", scores=scores)
    ethics_svc.ethics_review_decide(
        actor=caio,
        review=review,
        outcome="approve_with_conditions",
        findings="Disparities are within the agreed tolerance; notice and appeal channel are in place.",
        recommendations="Publish the disparity analysis with the use-case inventory entry.",
        conditions="Quarterly disparity monitoring reported to the CAIO; re-review after any model change.",
    )


def load(users) -> None:
    """Appeals in every state and two more ethics reviews (one scoring, one pending)."""
    project = Project.objects.get(key="proj-101")
    staff, reviewer, appellant = users["gov.staff"], users["reviewer"], users["appellant"]
    _ensure_board_roles(users, project)
    screener = project.use_cases.get(name="Benefits eligibility pre-screener")
    chatbot = project.use_cases.get(name="Citizen services chatbot")
    assistant = project.use_cases.get(name="AI coding assistant for agency developers")

    appeal_svc.appeal_submit(
        actor=appellant,
        project=project,
        decision_trace_id=TRACE_IDS[0],
        reason="My application was ranked as unlikely eligible although my income fell last quarter.",
    )
    outside = appeal_svc.appeal_submit(
        actor=staff,
        project=project,
        use_case=screener,
        decision_trace_id=TRACE_IDS[1],
        reason="Called the contact centre: the score used a household size of 2, but we are 4.",
        appellant_name="Pat Doe",
        appellant_email="pat.doe@example.org",
        appellant_phone="+1 202 555 0143",
    )
    appeal_svc.appeal_assign_reviewer(actor=staff, appeal=outside, reviewer=reviewer)

    escalated = appeal_svc.appeal_submit(
        actor=appellant,
        project=project,
        decision_trace_id=TRACE_IDS[2],
        reason="The screener seems to penalise applicants over 60.",
    )
    appeal_svc.appeal_assign_reviewer(actor=staff, appeal=escalated, reviewer=reviewer)
    appeal_svc.appeal_escalate(
        actor=reviewer, appeal=escalated, reason="Possible age discrimination: a rights impact for the CAIO."
    )

    resolved = appeal_svc.appeal_submit(
        actor=staff,
        project=project,
        use_case=screener,
        decision_trace_id=TRACE_IDS[3],
        reason="Wage records from the new employer were not considered.",
        appellant_name="Sam Lee",
        appellant_postal_address="12 Main Street, Springfield",
    )
    appeal_svc.appeal_assign_reviewer(actor=staff, appeal=resolved, reviewer=reviewer)
    appeal_svc.appeal_resolve(
        actor=reviewer,
        appeal=resolved,
        outcome="upheld",
        resolution="Decision reversed: the new wage records show eligibility; the application is re-queued.",
    )

    withdrawn = appeal_svc.appeal_submit(
        actor=appellant, project=project, decision_trace_id=TRACE_IDS[4], reason="Wrong office assigned."
    )
    appeal_svc.appeal_withdraw(actor=appellant, appeal=withdrawn, reason="The office corrected it.")

    periodic = ethics_svc.ethics_review_create(
        actor=staff,
        use_case=chatbot,
        review_type="periodic",
        summary="Six-month periodic review: transcripts sample, complaint log and answer accuracy audit.",
        board=_board(users),
        start=True,
    )
    scores_svc.ethics_score_submit(
        actor=users["ethics.legal"], review=periodic, conflict_of_interest="none", scores=GOOD
    )
    scores_svc.ethics_score_submit(
        actor=users["ethics.board"],
        review=periodic,
        conflict_of_interest="declared",
        conflict_details="I advised the vendor on the chatbot's content policy in 2025.",
    )
    ethics_svc.ethics_review_create(
        actor=staff,
        use_case=assistant,
        summary="Agent permissions, code review checkpoints and session audit trail.",
        board=_board(users)[1:],
        quorum_rule="small_board",
    )
