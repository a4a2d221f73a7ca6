"""The appeal and ethics-review actions of ``accountability_manager`` (seed 003 §9)."""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db.models import Q
from django.utils import timezone

from accountability.api.appeals import AppealSerializer
from accountability.api.ethics import EthicsReviewDetailSerializer, EthicsReviewSerializer
from accountability.exceptions import ValidationFailed
from accountability.models import BoardMember, EthicsReview
from accountability.selectors import appeals as appeal_sel
from accountability.selectors import ethics as ethics_sel
from accountability.selectors import incidents as incident_sel
from accountability.selectors import registry as sel
from accountability.services import appeals as appeal_svc
from accountability.services import ethics as ethics_svc

ACTIONS = ["submit_appeal", "list_appeals", "appeal_id", "create_review", "list_reviews", "review_id"]
HELP = (
    "  accountability_manager --project-id proj-101 --submit-appeal --decision-trace-id <32 hex> "
    "--reason 'Incorrect classification' --json\n"
    "  accountability_manager --project-id proj-101 --list-appeals --json\n"
    "  accountability_manager --appeal-id APL-00001 --resolve --outcome upheld "
    "--resolution 'Decision reversed' --json\n"
    "  accountability_manager --project-id proj-101 --create-review --use-case-id UC-00001 "
    "--reviewer-id alice:legal --reviewer-id bob:affected_community:affected_community --start --json\n"
    "  accountability_manager --project-id proj-101 --list-reviews --json"
)


def add_arguments(parser) -> None:
    """The appeal and ethics-review flags (``--use-case-id`` and ``--reason`` are shared)."""
    actions = parser.add_argument_group("appeal and ethics-review actions")
    actions.add_argument("--submit-appeal", action="store_true", help="Submit an appeal against an AI decision.")
    actions.add_argument("--list-appeals", action="store_true", help="List the project's appeals you may see.")
    actions.add_argument("--appeal-id", help="Show an appeal (APL-00001); with a step flag, take that step.")
    actions.add_argument("--create-review", action="store_true", help="Create an ethics review of a use case.")
    actions.add_argument("--list-reviews", action="store_true", help="List the project's ethics reviews.")
    actions.add_argument("--review-id", help="Show an ethics review (ETH-00001).")
    appeal = parser.add_argument_group("appeal options")
    appeal.add_argument("--decision-trace-id", help="W3C trace id (32 lower-case hex) of the contested decision.")
    appeal.add_argument("--appellant", help="Coordinators: the appellant's username.")
    appeal.add_argument("--appellant-name", default="", help="Coordinators: an appellant without an account.")
    appeal.add_argument("--appellant-email", default="")
    appeal.add_argument("--appellant-phone", default="")
    appeal.add_argument("--status", help="With --list-appeals / --list-reviews: only this status.")
    appeal.add_argument("--assign-reviewer", metavar="USERNAME", help="With --appeal-id: assign the reviewer.")
    appeal.add_argument("--resolve", action="store_true", help="With --appeal-id: record the decision.")
    appeal.add_argument("--outcome", choices=[o.value for o in appeal_svc.DECISION_OUTCOMES])
    appeal.add_argument("--resolution", help="With --resolve: the decision and its reasons.")
    appeal.add_argument("--escalate", action="store_true", help="With --appeal-id: escalate (needs --reason).")
    appeal.add_argument("--withdraw", action="store_true", help="With --appeal-id: withdraw your appeal.")
    review = parser.add_argument_group("ethics-review options")
    review.add_argument(
        "--reviewer-id",
        action="append",
        default=[],
        metavar="USER[:DISCIPLINE[:PARTY]]",
        help="A board member by username or e-mail (repeat for each). Discipline defaults to domain, the party "
        "represented to deployer.",
    )
    review.add_argument("--review-type", default="initial", choices=EthicsReview.ReviewType.values)
    review.add_argument(
        "--incident-id", default="", help="The triggering incident (with --review-type incident_triggered)."
    )
    review.add_argument("--summary", default="", help="What the board reviews.")
    review.add_argument("--rubric", default="", help="Rubric key from the policy (default rubric when omitted).")
    review.add_argument("--quorum-rule", default="", help="Quorum rule from the policy.")
    review.add_argument("--start", action="store_true", help="With --create-review: start scoring at once.")


def _context(actor) -> dict:
    return {"request": SimpleNamespace(user=actor)}


def _user(value: str):
    matches = list(
        get_user_model().objects.filter(Q(username=value) | Q(email__iexact=value), is_active=True).distinct()[:2]
    )
    if len(matches) != 1:
        raise CommandError(f"No single active user {value!r} (username or e-mail).")
    return matches[0]


def _board(specs: list[str]) -> list[dict]:
    board = []
    for spec in specs:
        who, _, rest = spec.partition(":")
        discipline, _, party = rest.partition(":")
        discipline, party = discipline or "domain", party or "deployer"
        if discipline not in BoardMember.Discipline.values:
            raise ValidationFailed({"reviewer_id": [f"Unknown discipline {discipline!r}."]})
        if party not in BoardMember.Party.values:
            raise ValidationFailed({"reviewer_id": [f"Unknown party {party!r}."]})
        board.append({"user": _user(who), "discipline": discipline, "party": party})
    return board


class AppealCommands:
    """Mixed into ``accountability_manager``'s Command."""

    def do_submit_appeal(self, actor, opts):
        project = self.project(actor, opts)
        if not opts.get("decision_trace_id") or not opts.get("reason"):
            raise CommandError("--submit-appeal needs --decision-trace-id and --reason.")
        appeal = appeal_svc.appeal_submit(
            actor=actor,
            project=project,
            decision_trace_id=opts["decision_trace_id"],
            reason=opts["reason"],
            use_case=sel.use_case_get(actor, opts["use_case_id"], project) if opts.get("use_case_id") else None,
            appellant=_user(opts["appellant"]) if opts.get("appellant") else None,
            appellant_name=opts["appellant_name"],
            appellant_email=opts["appellant_email"],
            appellant_phone=opts["appellant_phone"],
        )
        return AppealSerializer(appeal, context=_context(actor)).data

    def do_list_appeals(self, actor, opts):
        appeals = appeal_sel.appeal_list(actor, self.project(actor, opts)).order_by("id")
        if opts.get("status"):
            appeals = appeals.filter(status=opts["status"])
        data = AppealSerializer(appeals, many=True, context=_context(actor)).data
        rows = [
            [
                a.public_id,
                a.status,
                a.outcome or "",
                a.reviewer.get_username() if a.reviewer_id else "",
                f"{timezone.localtime(a.assignment_due_at):%Y-%m-%d %H:%M}",
            ]
            for a in appeals
        ]
        return data, self.table(
            f"Appeals of {opts['project_id']}", ["Appeal", "Status", "Outcome", "Reviewer", "Assign by"], rows
        )

    def do_appeal_id(self, actor, opts):
        appeal = appeal_sel.appeal_get(actor, opts["appeal_id"])
        if opts.get("project_id") and appeal.project.key != opts["project_id"]:
            raise CommandError(f"{appeal.public_id} does not belong to {opts['project_id']}.")
        steps = [name for name in ("assign_reviewer", "resolve", "escalate", "withdraw") if opts.get(name)]
        if len(steps) > 1:
            raise CommandError("Take one step at a time: --assign-reviewer, --resolve, --escalate or --withdraw.")
        if opts.get("assign_reviewer"):
            appeal_svc.appeal_assign_reviewer(actor=actor, appeal=appeal, reviewer=_user(opts["assign_reviewer"]))
        elif opts.get("resolve"):
            if not opts.get("outcome") or not opts.get("resolution"):
                raise CommandError("--resolve needs --outcome (upheld, partially_upheld, denied) and --resolution.")
            appeal_svc.appeal_resolve(
                actor=actor, appeal=appeal, outcome=opts["outcome"], resolution=opts["resolution"]
            )
        elif opts.get("escalate"):
            appeal_svc.appeal_escalate(actor=actor, appeal=appeal, reason=opts.get("reason") or "")
        elif opts.get("withdraw"):
            appeal_svc.appeal_withdraw(actor=actor, appeal=appeal, reason=opts.get("reason") or "")
        appeal = appeal_sel.appeal_get(actor, appeal.public_id)
        return AppealSerializer(appeal, context=_context(actor)).data

    def do_create_review(self, actor, opts):
        project = self.project(actor, opts)
        if not opts.get("use_case_id"):
            raise CommandError("--create-review needs --use-case-id.")
        use_case = sel.use_case_get(actor, opts["use_case_id"], project)
        review = ethics_svc.ethics_review_create(
            actor=actor,
            use_case=use_case,
            summary=opts["summary"] or f"{use_case.public_id} '{use_case.name}' as recorded in the inventory.",
            board=_board(opts["reviewer_id"]),
            review_type=opts["review_type"],
            incident=incident_sel.incident_get(actor, opts["incident_id"], project)
            if opts.get("incident_id")
            else None,
            rubric_key=opts["rubric"],
            quorum_rule=opts["quorum_rule"],
            start=opts["start"],
        )
        return EthicsReviewDetailSerializer(review, context=_context(actor)).data

    def do_list_reviews(self, actor, opts):
        reviews = ethics_sel.ethics_review_list(actor, self.project(actor, opts)).order_by("id")
        if opts.get("status"):
            reviews = reviews.filter(status=opts["status"])
        data = EthicsReviewSerializer(reviews, many=True, context=_context(actor)).data
        rows = [[r.public_id, r.use_case.public_id, r.review_type, r.status, r.version, r.decision] for r in reviews]
        return data, self.table(
            f"Ethics reviews of {opts['project_id']}",
            ["Review", "Use case", "Type", "Status", "Version", "Decision"],
            rows,
        )

    def do_review_id(self, actor, opts):
        review = ethics_sel.ethics_review_get(actor, opts["review_id"])
        return EthicsReviewDetailSerializer(review, context=_context(actor)).data


__all__ = ["ACTIONS", "HELP", "AppealCommands", "add_arguments"]
