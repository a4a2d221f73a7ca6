"""Named evaluators over the registry: CAIO grade, inventory completeness, minimum practices (with the
waivers that validly cover them) and impact assessments. Each runs one query for all audited projects."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from accountability.models import AIUseCase, CAIODesignation, ImpactAssessment, WaivedPractice
from accountability.rules.completeness import completeness_report
from accountability.rules.evidence import SECTION_TITLES, section_gaps

from ..batch import restrict
from .base import FAIL, NA, OK, PARTIAL, Outcome, evaluator

USE_CASE = ("accountability.AIUseCase",)


INVENTORY_FIELDS = (
    "id",
    "stage",
    "name",
    "bureau",
    "contact_email",
    "high_impact_determination",
    "topic_area",
    "purpose",
    "benefits",
    "outputs",
    "operational_date",
    "development_method",
    "ato_system_name",
    "data_description",
    "involves_pii",
    "demographic_features",
    "has_custom_code",
    "withheld",
    "withheld_reason",
    "pia_url",
    "code_url",
    "minimum_practices",
)
IMPACT_FIELDS = (
    "id",
    "use_case_id",
    "status",
    "use_case_stage_at_acceptance",
    "purpose_and_benefits",
    "benefit_metrics",
    "data_quality",
    "protected_class_data",
    "rights_impacts",
    "mitigations",
    "pia_url",
    "reassessment_frequency_days",
    "reassessment_procedures",
    "costs",
    "reviewed_at",
    "risk_accepted_at",
)


class _View:
    """One row read as attributes, with the few model helpers the domain rules use (public_id, status
    display, is_high_impact): cheaper than building thousands of model instances."""

    def __init__(self, model, row: dict):
        self.__dict__.update(row)
        self._model = model

    @property
    def pk(self):
        return self.id

    @property
    def public_id(self) -> str:
        return f"{self._model.PUBLIC_ID_PREFIX}-{self.id:05d}"

    @property
    def is_high_impact(self) -> bool:
        return self.high_impact_determination == AIUseCase.HighImpact.HIGH

    def get_status_display(self) -> str:
        return str(dict(self._model._meta.get_field("status").choices)[self.status])


def _values(model, key: tuple, q, fields: tuple[str, ...]) -> tuple:
    """(key, build) of one cached values() query over the audited projects, in pk order; ``q`` is a Q or
    a function returning one (called only when the SQL is compiled)."""
    return (
        key,
        lambda ids: (
            restrict(model.objects.filter(q() if callable(q) else q), model, ids).order_by("pk").values(*fields)
        ),
    )


def _views(rc, model, query: tuple) -> list[_View]:
    """The rows of a ``_values`` query as attribute views."""
    return [_View(model, row) for row in rc.engine.rows(*query)]


def _plan_fields(*names):
    def plan(rc, subjects, rule, path):
        subjects.need_fields(*names)

    return plan


def _active_caios(rc, rule) -> tuple:
    """The CAIO designations active today: (key, build) for ``engine.rows``."""
    return (
        ("ev", "caio_grade"),
        lambda ids: restrict(CAIODesignation.objects.active(rc.today), CAIODesignation, ids).values(
            "project", "pk", "grade"
        ),
    )


@evaluator(
    "caio_grade",
    params=("senior_grades", "other_grades"),
    subjects=("accountability.Project",),
    plan=_plan_fields("is_cfo_act_agency"),
    queries=lambda rc, rule: [_active_caios(rc, rule)],
)
def caio_grade(rc, subjects, rule, path):
    """The active CAIO's grade fits the agency: SES/ST/SL for CFO Act agencies, GS-14 or above elsewhere."""
    senior = set(rc.param(rule, "senior_grades", path))
    others = set(rc.param(rule, "other_grades", path))
    grades = defaultdict(list)
    for row in rc.engine.rows(*_active_caios(rc, rule)):
        grades[row["project"]].append((row["pk"], row["grade"]))
    out = {}
    for row in subjects.rows:
        held = grades.get(row["pk"], [])
        if not held:
            out[row["pk"]] = Outcome(NA, "no active CAIO designation (see M2521-GOV-01)")
            continue
        allowed = senior if row["is_cfo_act_agency"] else senior | others
        fitting = [pk for pk, grade in held if grade in allowed]
        kind = "CFO Act agency: SES, ST or SL" if row["is_cfo_act_agency"] else "SES, ST, SL or GS-14 and above"
        objects = tuple(("accountability.CAIODesignation", pk) for pk, _ in held)
        if fitting:
            out[row["pk"]] = Outcome(OK, f"grade fits ({kind})", objects)
        else:
            shown = ", ".join(sorted({g or "not recorded" for _, g in held}))
            out[row["pk"]] = Outcome(FAIL, f"grade {shown} does not fit ({kind})", objects)
    return out


def _inventory(rc, rule) -> tuple:
    """The inventory fields of the use cases not retired."""
    return _values(AIUseCase, ("ev", "inventory"), ~Q(stage=AIUseCase.Stage.RETIRED), INVENTORY_FIELDS)


@evaluator("inventory_completeness", subjects=USE_CASE, queries=lambda rc, rule: [_inventory(rc, rule)])
def inventory_completeness(rc, subjects, rule, path):
    """Every OMB inventory field required at the use case's stage is filled in (accountability.rules)."""
    wanted = {row["pk"] for row in subjects.rows}
    out = {}
    for use_case in _views(rc, AIUseCase, _inventory(rc, rule)):
        if use_case.pk not in wanted:
            continue
        report = completeness_report(use_case)
        if report.complete:
            out[use_case.pk] = Outcome(OK, f"all {len(report.required)} fields for stage {report.stage}")
        else:
            missing = ", ".join(m["label"] for m in report.missing)
            out[use_case.pk] = Outcome(FAIL, f"{len(report.missing)} of {len(report.required)} missing: {missing}")
    return out


def _waived_query(rc) -> tuple:
    """(key, build) of the (use case, practice) pairs of the waivers in force today."""
    return (
        ("ev", "valid_waived"),
        lambda ids: (
            restrict(WaivedPractice.objects.all(), WaivedPractice, ids)
            .filter(
                waiver__revoked_on__isnull=True,
                waiver__next_recertification_due__gte=rc.today,
                waiver__granted_on__lte=rc.today,
            )
            .values("use_case", "practice")
        ),
    )


def _valid_waived(rc) -> set[tuple[int, str]]:
    """(use case, practice) pairs covered by a waiver in force today: not revoked, recertified in time."""
    if "valid_waived" in rc.engine.memo:  # shared by M2521-MRP-01 and M2521-TRM-01: one query per audit
        return rc.engine.memo["valid_waived"]
    rows = rc.engine.rows(*_waived_query(rc))
    rc.engine.memo["valid_waived"] = {(r["use_case"], r["practice"]) for r in rows}
    return rc.engine.memo["valid_waived"]


def _declared_practices(rc) -> tuple:
    """(key, build) of the declared minimum practices of the check's subjects."""
    subject_q = rc.subject_q

    # Built only when the compiled SQL is not cached yet (a queryset costs more than running the query).
    def build(ids):
        # The JSON column is read here, for the subjects only, rather than for every use case of the audit.
        wanted = Q(pk__in=AIUseCase.objects.filter(subject_q).values("pk")) if subject_q is not None else Q()
        return restrict(AIUseCase.objects.filter(wanted), AIUseCase, ids).values("pk", "minimum_practices")

    return ("ev", "practices", rc.check.id), build


@evaluator(
    "minimum_practices",
    params=("practices", "predeployment_partial"),
    subjects=USE_CASE,
    plan=_plan_fields("stage"),
    queries=lambda rc, rule: [_waived_query(rc), _declared_practices(rc)],
)
def minimum_practices(rc, subjects, rule, path):
    """Each minimum practice is implemented, or waived by a waiver that is in force (an expired or revoked
    waiver does not count); gaps before deployment are partial when ``predeployment_partial``."""
    practices = list(rc.param(rule, "practices", path))
    lenient = rc.param(rule, "predeployment_partial", path)
    covered = _valid_waived(rc)
    declared = {r["pk"]: r["minimum_practices"] for r in rc.engine.rows(*_declared_practices(rc))}
    out = {}
    for row in subjects.rows:
        statuses = declared.get(row["pk"]) or {}
        gaps = []
        for practice in practices:
            status = statuses.get(practice) or AIUseCase.PracticeStatus.NOT_STARTED
            if status == AIUseCase.PracticeStatus.IMPLEMENTED:
                continue
            if status == AIUseCase.PracticeStatus.WAIVED and (row["pk"], practice) in covered:
                continue
            shown = "waived without a waiver in force" if status == AIUseCase.PracticeStatus.WAIVED else status
            gaps.append(f"{practice.replace('_', ' ')} ({shown.replace('_', ' ')})")
        if not gaps:
            out[row["pk"]] = Outcome(OK, f"all {len(practices)} practices implemented or validly waived")
            continue
        status = PARTIAL if lenient and row["stage"] != AIUseCase.Stage.DEPLOYED else FAIL
        out[row["pk"]] = Outcome(status, f"{len(gaps)} of {len(practices)} practices missing: {'; '.join(gaps)}")
    return out


def _assessments(rc, rule) -> tuple:
    """(key, build) of the current impact assessments of the check's subjects."""
    subject_q = rc.subject_q

    def wanted() -> Q:
        q = ~Q(status=ImpactAssessment.Status.SUPERSEDED)
        if subject_q is not None:  # only the subjects' assessments (e.g. high-impact use cases)
            q &= Q(use_case__in=AIUseCase.objects.filter(subject_q).values("pk"))
        return q

    return _values(ImpactAssessment, ("ev", "impact", rc.check.id), wanted, IMPACT_FIELDS)


@evaluator(
    "impact_assessments",
    subjects=USE_CASE,
    plan=_plan_fields("stage", "involves_pii"),
    queries=lambda rc, rule: [_assessments(rc, rule)],
)
def impact_assessments(rc, subjects, rule, path):
    """An accepted impact assessment with sections A–G, an independent review and a signed risk acceptance,
    completed before deployment; an open version before deployment is partial."""
    by_use_case = defaultdict(dict)
    for assessment in _views(rc, ImpactAssessment, _assessments(rc, rule)):
        kind = "accepted" if assessment.status == ImpactAssessment.Status.ACCEPTED else "open"
        by_use_case[assessment.use_case_id][kind] = assessment
    out = {}
    for row in subjects.rows:
        found = by_use_case.get(row["pk"], {})
        accepted, open_version = found.get("accepted"), found.get("open")
        if accepted is not None:
            gaps = [k for k, v in section_gaps(accepted, involves_pii=row["involves_pii"]).items() if v]
            ref = (("accountability.ImpactAssessment", accepted.pk),)
            if gaps:
                titles = "; ".join(f"{k} ({SECTION_TITLES[k]})" for k in gaps)
                out[row["pk"]] = Outcome(PARTIAL, f"{accepted.public_id} accepted but lacks {titles}", ref)
            elif accepted.use_case_stage_at_acceptance == AIUseCase.Stage.DEPLOYED:
                out[row["pk"]] = Outcome(
                    PARTIAL, f"{accepted.public_id}: risk accepted only after deployment (due before it)", ref
                )
            else:
                out[row["pk"]] = Outcome(OK, f"{accepted.public_id} complete (A–G) and accepted before deployment", ref)
        elif row["stage"] == AIUseCase.Stage.DEPLOYED:
            ref = (("accountability.ImpactAssessment", open_version.pk),) if open_version else ()
            out[row["pk"]] = Outcome(FAIL, "deployed without an accepted impact assessment", ref)
        elif open_version is not None:
            out[row["pk"]] = Outcome(
                PARTIAL,
                f"{open_version.public_id} is {open_version.get_status_display().lower()}, not yet accepted",
                (("accountability.ImpactAssessment", open_version.pk),),
            )
        else:
            out[row["pk"]] = Outcome(FAIL, "no impact assessment")
    return out
