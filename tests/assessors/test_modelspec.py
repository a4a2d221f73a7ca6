"""Filters that cross a to-many relation: ``flat`` keeps only the crossing part in a subquery, and selects
exactly the rows the plain joined filter selects (no duplicates), for one project or for all of them."""

from __future__ import annotations

import pytest

from accountability.models import FairnessAssessment, Incident, Project
from assessors.modelspec import Values, compile_filter, flat
from tests.evidence.factories import FairnessAssessmentFactory, FairnessMetricFactory
from tests.factories import ProjectFactory, UseCaseFactory
from tests.incidents.factories import IncidentFactory

from .helpers import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
VALUES = Values(NOW.date(), NOW, lambda name: {"wanted": True}[name])
INCIDENT_GOOD = {
    "$complete": [
        {"any": ["affected_systems", "use_cases"]},
        "title",
        {"field": "lessons_learned", "when": {"status__in": ["resolved", "closed"]}},
    ]
}
FILTERS = [
    (FairnessAssessment, {"status": "current", "overall_result__in": ["pass", "mitigated"], "metrics__isnull": False}),
    (FairnessAssessment, {"metrics__isnull": True}),
    (FairnessAssessment, {"$or": [{"status": "retracted"}, {"metrics__isnull": False}]}),
    (Incident, INCIDENT_GOOD),
    (Incident, {"use_cases__is_generative": "$param.wanted"}),
    (Incident, {"$not": {"use_cases__isnull": False}}),
    (Project, {"use_cases__is_llm_procured": True}),
    (Project, {"is_federal_agency": True, "use_cases__is_llm_procured": True, "use_cases__is_generative": True}),
]


@pytest.fixture
def rows():
    """Two projects with rows on both sides of every filter above (duplicates would show as extra pks)."""
    projects = [ProjectFactory(is_federal_agency=True), ProjectFactory(is_federal_agency=False)]
    for project in projects:
        llm = UseCaseFactory(project=project, is_llm_procured=True, is_generative=False)
        gen = UseCaseFactory(project=project, is_llm_procured=True, is_generative=True)
        UseCaseFactory(project=project, is_llm_procured=False, is_generative=True)
        for status, result, metrics in (("current", "pass", 2), ("current", "fail", 1), ("retracted", "pass", 0)):
            reason = "recorded in error" if status == "retracted" else ""
            assessment = FairnessAssessmentFactory(
                use_case=llm, status=status, overall_result=result, retraction_reason=reason
            )
            for _ in range(metrics):
                FairnessMetricFactory(assessment=assessment)
        FairnessAssessmentFactory(use_case=gen, status="current", overall_result="pass")
        both = IncidentFactory(project=project, affected_systems=["chatbot"])
        both.use_cases.add(llm, gen)
        IncidentFactory(project=project, affected_systems=[]).use_cases.add(gen)
        IncidentFactory(project=project, affected_systems=[])
        IncidentFactory(
            project=project, affected_systems=["x"], status="resolved", resolved_at=NOW, root_cause="config"
        )
    UseCaseFactory(project=ProjectFactory(is_federal_agency=True), is_llm_procured=False)  # no LLM use case
    return projects


@pytest.mark.parametrize(("model", "flt"), FILTERS)
def test_flat_selects_what_the_joined_filter_selects(rows, model, flt):
    expected = set(model.objects.filter(compile_filter(model, flt, VALUES)).values_list("pk", flat=True))
    assert expected  # the fixture has matching rows for every filter
    assert expected != set(model.objects.values_list("pk", flat=True))  # and rows that do not match
    found = list(model.objects.filter(flat(model, flt, VALUES, None)).values_list("pk", flat=True))
    assert sorted(found) == sorted(expected)
    one = rows[0].pk
    scoped = flat(model, flt, VALUES, [one])
    path = {Project: "pk"}.get(model, "project")
    in_project = set(model.objects.filter(**{path: one}).values_list("pk", flat=True))
    assert sorted(model.objects.filter(scoped).filter(**{path: one}).values_list("pk", flat=True)) == sorted(
        expected & in_project
    )


def test_only_the_crossing_part_is_a_subquery(rows):
    """The plain columns are tested on the outer rows; the subquery reads the link or related table."""
    sql = str(Incident.objects.filter(flat(Incident, INCIDENT_GOOD, VALUES, None)).query)
    assert sql.count("SELECT") == 2
    inner = sql[sql.index("SELECT", 1) :]
    assert "accountability_incident_use_cases" in inner
    assert "title" not in inner
    sql = str(FairnessAssessment.objects.filter(flat(FairnessAssessment, FILTERS[0][1], VALUES, None)).query)
    assert "accountability_fairnessmetric" in sql[sql.index("SELECT", 1) :]
    assert "FROM accountability_fairnessassessment" not in sql[sql.index("SELECT", 1) :].replace('"', "")
