"""Generator of the audit benchmark's data set: 1,000 projects and about a million governance rows, filled
set-based with INSERT … SELECT over generate_series on PostgreSQL (no services, no Python loop per row).

Each table gets a realistic mix so that every check has passing, partial and failing subjects, and every
gate condition triggers somewhere. Columns a statement does not name get the model's default.
"""

from __future__ import annotations

import json
import time

from django.db import connection
from django.db.models import JSONField
from django.utils import timezone

TABLES = [
    "accountability_waivedpractice",
    "accountability_waiver",
    "accountability_operatortraining",
    "accountability_feedbackitem",
    "accountability_feedbackchannel",
    "accountability_impactassessment",
    "accountability_monitoringobservation",
    "accountability_monitoringplan",
    "accountability_contenttracingpolicy",
    "accountability_provenancerecord",
    "accountability_confabulationcheck",
    "accountability_fairnessmetric",
    "accountability_fairnessassessment",
    "accountability_vendorartefacts",
    "accountability_modelcard",
    "accountability_ethicsreview",
    "accountability_appeal",
    "accountability_incident",
    "accountability_reassessmentschedule",
    "accountability_oversightplanversion",
    "accountability_oversightplan",
    "accountability_caiodesignation",
    "accountability_aiusecase",
]


def insert(model, exprs: dict[str, str], source: str, params: dict | None = None) -> int:
    """INSERT INTO model's table SELECT exprs (defaults for every other column) <source>; returns rows."""
    params = dict(params or {})
    cols, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        cols.append(f'"{f.column}"')
        if f.column in exprs:
            values.append(exprs[f.column])
        elif f.name in ("created_at", "updated_at", "status_changed_at"):
            values.append("now()")
        elif f.has_default():
            default = f.get_default()
            name = f"d_{f.column}"
            if isinstance(f, JSONField):
                params[name] = json.dumps(default)
                values.append(f"%({name})s::jsonb")
            elif callable(f.default) and f.default is timezone.now:
                values.append("now()")
            else:
                params[name] = default
                values.append(f"%({name})s")
        elif f.null:
            values.append("NULL")
        elif f.get_internal_type() in ("CharField", "TextField", "URLField", "EmailField"):
            values.append("''")
        else:
            raise ValueError(f"{model.__name__}.{f.name} needs a value")
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) SELECT {', '.join(values)} {source}"
    with connection.cursor() as c:
        c.execute(sql, params)
        return c.rowcount


def fill(projects: int) -> dict[str, int]:
    """Fill every table the checks read; returns rows per table."""
    from django.contrib.auth import get_user_model

    from accountability import models as m

    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute(f"TRUNCATE {', '.join(TABLES)}, assessors_checkresult, assessors_auditrun CASCADE")
        c.execute("DELETE FROM accountability_project WHERE key LIKE 'bench-%%'")
    user, _ = get_user_model().objects.get_or_create(username="bench-officer", defaults={"email": "o@bench.example"})
    rows = {}
    p = {"n": projects, "user": user.pk}

    def add(model, exprs, source):
        rows[model._meta.db_table] = rows.get(model._meta.db_table, 0) + insert(model, exprs, source, p)
        print(f"  {model._meta.db_table:<45} {rows[model._meta.db_table]:>9,}", flush=True)

    add(
        m.Project,
        {
            "key": "'bench-' || lpad(g::text, 4, '0')",
            "name": "'Bench agency ' || g",
            "organization": "'Bench'",
            "is_federal_agency": "g %% 10 <> 0",
            "is_cfo_act_agency": "g %% 10 = 5",
        },
        "FROM generate_series(1, %(n)s) g",
    )
    bench = "FROM accountability_project p WHERE p.key LIKE 'bench-%%'"
    add(
        m.AIUseCase,
        {
            "project_id": "p.id",
            "name": "'Use case ' || s",
            "bureau": "CASE WHEN (p.id + s) %% 17 = 0 THEN '' ELSE 'Bureau' END",
            "purpose": "'Purpose'",
            "benefits": "'Benefits'",
            "outputs": "'Scores'",
            "topic_area": "'Services'",
            "contact_email": "'owner@bench.example'",
            "responsible_official_name": "CASE WHEN s = 7 THEN '' ELSE 'Owner' END",
            "stage": "(ARRAY['deployed','deployed','deployed','pilot','pilot','pre_deployment','pre_deployment',"
            "'pre_deployment','retired','deployed'])[s]",
            "high_impact_determination": "CASE WHEN s IN (1, 4, 6) THEN 'high' WHEN s = 8 AND p.id %% 3 = 0 "
            "THEN 'not_assessed' ELSE 'not_high' END",
            "high_impact_bases": "CASE WHEN s IN (1, 4, 6) THEN '[\"access\"]'::jsonb ELSE '[]'::jsonb END",
            "presumed_categories": "CASE WHEN s = 1 THEN '[\"m\"]'::jsonb ELSE '[]'::jsonb END",
            "is_generative": "s IN (2, 5, 10)",
            "is_llm_procured": "s = 2",
            "operational_date": "current_date - 400",
            "development_method": "'in_house'",
            "ato_system_name": "'SYS'",
            "data_description": "'Records'",
            "involves_pii": "false",
            "demographic_features": "'None'",
            "has_custom_code": "false",
            "minimum_practices": "jsonb_build_object('testing', CASE WHEN (p.id + s) %% 9 = 0 THEN 'in_progress' "
            "ELSE 'implemented' END, 'impact_assessment', 'implemented', 'potential_impacts', 'implemented', "
            "'independent_review', 'implemented', 'monitoring', 'implemented', 'operator_training', 'implemented', "
            "'fail_safe', 'implemented', 'appeal_process', 'implemented', 'public_consultation', "
            "CASE WHEN p.id %% 3 = 0 THEN 'waived' ELSE 'implemented' END)",
        },
        "FROM accountability_project p, generate_series(1, 10) s WHERE p.key LIKE 'bench-%%'",
    )
    add(
        m.CAIODesignation,
        {
            "project_id": "p.id",
            "official_name": "'CAIO ' || p.id",
            "official_email": "'caio@bench.example'",
            "grade": "CASE WHEN p.id %% 9 = 0 THEN 'gs14' ELSE 'ses' END",
            "authority_scope": "'agency'",
            "effective_date": "current_date - 400",
            "expiry_date": "CASE WHEN p.id %% 20 = 0 THEN current_date - 10 END",
            "omb_notified_at": "CASE WHEN p.id %% 7 = 0 THEN NULL ELSE current_date - 390 END",
        },
        bench,
    )
    live = (
        "FROM accountability_aiusecase u JOIN accountability_project p ON p.id = u.project_id "
        "WHERE p.key LIKE 'bench-%%'"
    )
    add(m.OversightPlan, {"project_id": "u.project_id", "use_case_id": "u.id"}, live)
    add(
        m.OversightPlanVersion,
        {
            "plan_id": "op.id",
            "version": "s",
            "status": "CASE WHEN s = 1 THEN 'archived' WHEN op.id %% 10 = 0 THEN 'draft' ELSE 'active' END",
            "name": "'Plan v' || s",
            "roles": '\'[{"role": "Reviewer", "assignee": "Case worker"}]\'::jsonb',
            "escalation_path": '\'[{"level": 1, "role": "Manager", "trigger": "Incident"}]\'::jsonb',
            "intervention_role": "'Program manager'",
            "fail_safe": "CASE WHEN op.id %% 8 = 0 THEN '' ELSE 'Manual fallback' END",
        },
        "FROM accountability_oversightplan op JOIN accountability_project p ON p.id = op.project_id, "
        "generate_series(1, 2) s WHERE p.key LIKE 'bench-%%'",
    )
    add(
        m.ReassessmentSchedule,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "assessment_type": "'impact_assessment'",
            "frequency_days": "90",
            "anchor_date": "current_date",
            "next_due": "current_date + (((u.id * 7 + s * 13) %% 120) - 45)::int",
        },
        live.replace("WHERE", ", generate_series(1, 2) s WHERE"),
    )
    add(
        m.Incident,
        {
            "project_id": "p.id",
            "title": "'Incident ' || s",
            "description": "'Wrong answer'",
            "severity": "CASE WHEN s %% 50 = 0 THEN 'critical' WHEN s %% 3 = 0 THEN 'high' ELSE 'medium' END",
            "status": "CASE WHEN s %% 10 = 0 THEN 'open' ELSE 'closed' END",
            "reporter_name": "'Reporter'",
            "reported_at": "now() - ((s %% 60) || ' days')::interval",
            "occurred_at": "now() - ((s %% 60 + 1) || ' days')::interval",
            "source": "CASE WHEN s %% 7 = 0 THEN '' ELSE 'Caseworker' END",
            "data_reported": "'Transcript'",
            "impacts": "'Delayed benefit'",
            "stakeholders_impacted": "'Applicants'",
            "affected_systems": "'[\"SYS\"]'::jsonb",
            "root_cause": "CASE WHEN s %% 10 = 0 THEN '' ELSE 'Gap' END",
            "lessons_learned": "CASE WHEN s %% 10 = 0 THEN '' ELSE 'Lesson' END",
            "resolved_at": "CASE WHEN s %% 10 = 0 THEN NULL ELSE now() END",
            "closed_at": "CASE WHEN s %% 10 = 0 THEN NULL ELSE now() END",
            "sla_due_at": "now() - ((s %% 60) || ' days')::interval + interval '72 hours'",
        },
        "FROM accountability_project p, generate_series(1, 100) s WHERE p.key LIKE 'bench-%%'",
    )
    add(
        m.Appeal,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "decision_trace_id": "md5(u.id || '-' || s)",
            "appellant_name": "'Appellant'",
            "appellant_email": "'a@bench.example'",
            "reason": "'Wrong'",
            "status": "CASE WHEN (u.id + s) %% 40 = 0 THEN 'submitted' ELSE 'resolved' END",
            "outcome": "CASE WHEN (u.id + s) %% 40 = 0 THEN '' ELSE 'denied' END",
            "resolved_at": "CASE WHEN (u.id + s) %% 40 = 0 THEN NULL ELSE now() END",
            "assignment_due_at": "now() + ((s %% 20) - 10 || ' days')::interval",
            "decision_due_at": "now() + ((s %% 40) || ' days')::interval",
        },
        live.replace("WHERE", ", generate_series(1, 10) s WHERE"),
    )
    with connection.cursor() as c:  # appeals submitted up to 19 days ago (created_at drives the gate)
        c.execute("UPDATE accountability_appeal SET created_at = assignment_due_at - interval '7 days'")
    add(
        m.EthicsReview,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "title": "'Initial review'",
            "status": "CASE WHEN u.id %% 3 = 0 THEN 'pending' ELSE 'completed' END",
            "decision": "CASE WHEN u.id %% 3 = 0 THEN '' ELSE 'approve' END",
            "completed_at": "CASE WHEN u.id %% 3 = 0 THEN NULL ELSE now() END",
            "submitted_by_id": "%(user)s",
            "rubric_key": "'icdev-core'",
            "rubric_version": "1",
            "rubric": "'{}'::jsonb",
            "quorum_rule": "'{}'::jsonb",
            "score_timeout_days": "10",
        },
        live,
    )
    add(
        m.ModelCard,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "model_name": "'model-' || u.id",
            "model_version": "'1'",
            "version": "1",
            "status": "CASE WHEN u.id %% 5 = 0 THEN 'draft' ELSE 'published' END",
            "published_at": "CASE WHEN u.id %% 5 = 0 THEN NULL ELSE now() END",
        },
        live,
    )
    add(
        m.VendorArtefacts,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "vendor_name": "'Vendor'",
            "acceptable_use_policy_url": "'https://v.example/aup'",
            "model_card_url": "'https://v.example/card'",
            "end_user_resources_url": "CASE WHEN u.id %% 2 = 0 THEN 'https://v.example/help' ELSE '' END",
            "feedback_mechanism_url": "'https://v.example/report'",
            "card_reviewed_at": "CASE WHEN u.id %% 3 = 0 THEN NULL ELSE now() END",
        },
        live + " AND u.is_llm_procured",
    )
    add(
        m.FairnessAssessment,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "model_name": "'model-' || u.id",
            "model_version": "'1'",
            "performed_on": "current_date - (s * 40 + u.id %% 30)::int",
            "method": "'Disaggregated'",
            "overall_result": "'pass'",
            "next_due_on": "current_date - (s * 40 + u.id %% 30)::int + 90",
        },
        live.replace("WHERE", ", generate_series(1, 3) s WHERE"),
    )
    add(
        m.FairnessMetric,
        {
            "assessment_id": "fa.id",
            "group": "'group ' || s",
            "metric": "'demographic_parity_ratio'",
            "value": "0.9",
            "threshold": "0.8",
            "comparison": "'at_least'",
            "within_threshold": "true",
        },
        "FROM accountability_fairnessassessment fa, generate_series(1, 2) s",
    )
    gen = live.replace("WHERE", ", generate_series(1, {k}) s WHERE") + " AND u.is_generative"
    add(
        m.ConfabulationCheck,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "model_name": "'llm'",
            "model_version": "'1'",
            "checked_on": "current_date - (s * 10 + u.id %% 10)::int",
            "checks_citations": "true",
            "method": "'Sampled'",
            "sample_size": "100",
            "errors_found": "2",
            "error_rate": "0.02",
            "max_error_rate": "0.05",
            "result": "'pass'",
        },
        gen.format(k=5),
    )
    add(
        m.ProvenanceRecord,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "sequence": "s",
            "trace_id": "md5('t' || u.id || '-' || s)",
            "data_sources": "'[]'::jsonb",
            "model_name": "'llm'",
            "model_version": "'1'",
            "output_reference": "'out/' || s",
            "generated_at": "now()",
            "previous_hash": "encode(sha256(('p' || u.id || '-' || s)::bytea), 'hex')",
            "record_hash": "encode(sha256(('r' || u.id || '-' || s)::bytea), 'hex')",
            "ledger_entry_id": "'LED-bench'",
            "chain_status": "CASE WHEN (u.id + s) %% 500 = 0 THEN 'broken' ELSE 'verified' END",
            "chain_checked_at": "now()",
        },
        gen.format(k=100),
    )
    add(
        m.ContentTracingPolicy,
        {
            "project_id": "p.id",
            "version": "1",
            "status": "'approved'",
            "approved_at": "now()",
            "title": "'Tracing policy'",
            "owner_name": "'Owner'",
            "scope": "'Everything'",
            "retention_days": "365",
            "review_due_on": "CASE WHEN p.id %% 6 = 0 THEN current_date - 10 ELSE current_date + 100 END",
        },
        bench,
    )
    add(
        m.MonitoringPlan,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "name": "'Monthly'",
            "metrics": "'[]'::jsonb",
            "frequency_days": "30",
            "starts_on": "current_date - 400",
            "next_observation_due": "current_date + ((u.id %% 90) - 45)::int",
        },
        live + " AND u.stage <> 'retired' AND u.id %% 5 <> 0",
    )
    add(
        m.MonitoringObservation,
        {
            "plan_id": "mp.id",
            "project_id": "mp.project_id",
            "use_case_id": "mp.use_case_id",
            "observed_on": "current_date - s * 30 + 20",
            "metric_values": "'{}'::jsonb",
            "results": "'[]'::jsonb",
            "within_threshold": "(mp.id + s) %% 7 <> 0",
            "breach_count": "CASE WHEN (mp.id + s) %% 7 = 0 THEN 1 ELSE 0 END",
            "corrective_action": "CASE WHEN (mp.id + s) %% 7 = 0 THEN 'Retrained' ELSE '' END",
        },
        "FROM accountability_monitoringplan mp, generate_series(1, 12) s",
    )
    add(
        m.ImpactAssessment,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "version": "1",
            "status": "CASE WHEN u.high_impact_determination = 'high' AND u.id %% 4 <> 0 THEN 'accepted' "
            "ELSE 'draft' END",
            "purpose_and_benefits": "'Purpose'",
            "benefit_metrics": '\'[{"name": "wait", "target": "10"}]\'::jsonb',
            "data_quality": "'Good'",
            "protected_class_data": "'None'",
            "rights_impacts": "'Low'",
            "mitigations": "'Review'",
            "reassessment_frequency_days": "365",
            "reassessment_procedures": "'Yearly'",
            "costs": "'100k'",
            "reviewed_at": "now() - interval '60 days'",
            "risk_accepted_at": "now() - interval '50 days'",
            "use_case_stage_at_acceptance": "'pre_deployment'",
        },
        live,
    )
    add(
        m.Waiver,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "caio_designation_id": "c.id",
            "issued_by_id": "%(user)s",
            "basis": "'impedes_operations'",
            "determination": "'Determination'",
            "risk_assessment": "'Assessment'",
            "granted_on": "current_date - 100",
            "next_recertification_due": "CASE WHEN u.id %% 4 = 0 THEN current_date - 5 ELSE current_date + 265 END",
            "grant_omb_report_due": "current_date - 70",
            "grant_reported_to_omb_on": "current_date - 90",
            "public_summary_url": "'https://bench.example/waiver'",
        },
        live.replace("WHERE", "JOIN accountability_caiodesignation c ON c.project_id = u.project_id WHERE")
        + " AND u.high_impact_determination = 'high' AND p.id %% 3 = 0",
    )
    add(
        m.WaivedPractice,
        {"waiver_id": "w.id", "use_case_id": "w.use_case_id", "practice": "'public_consultation'"},
        "FROM accountability_waiver w",
    )
    add(
        m.FeedbackChannel,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "name": "'Web form'",
            "method": "'web_form'",
            "url": "'https://bench.example/feedback'",
            "audience": "CASE WHEN u.is_llm_procured THEN 'internal' ELSE 'public' END",
        },
        live,
    )
    add(
        m.FeedbackItem,
        {
            "project_id": "fc.project_id",
            "use_case_id": "fc.use_case_id",
            "channel_id": "fc.id",
            "received_at": "now() - (s * 5 || ' days')::interval",
            "category": "'error'",
            "summary": "'Wrong answer'",
            "triage_due_at": "now() - (s * 5 || ' days')::interval + interval '30 days'",
            "status": "CASE WHEN s > 2 AND (fc.id + s) %% 13 <> 0 THEN 'triaged' ELSE 'received' END",
            "triaged_at": "CASE WHEN s > 2 AND (fc.id + s) %% 13 <> 0 THEN now() END",
            "outcome": "CASE WHEN s > 2 AND (fc.id + s) %% 13 <> 0 THEN 'no_action' ELSE '' END",
        },
        "FROM accountability_feedbackchannel fc, generate_series(1, 10) s",
    )
    add(
        m.OperatorTraining,
        {
            "project_id": "u.project_id",
            "use_case_id": "u.id",
            "operator_name": "'Operator ' || s",
            "course": "'Operations'",
            "completed_on": "current_date - 100 - s",
            "expires_on": "current_date - 100 - s + CASE WHEN (u.id + s) %% 11 = 0 THEN 50 ELSE 365 END",
        },
        live.replace("WHERE", ", generate_series(1, 5) s WHERE"),
    )
    with connection.cursor() as c:
        for table in TABLES:
            c.execute(f"VACUUM ANALYZE {table}")
    total = sum(rows.values())
    print(f"filled {total:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
    return rows
