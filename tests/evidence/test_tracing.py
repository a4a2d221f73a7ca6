"""Provenance records (hash chain, ledger anchor, verification) and the content-tracing policy."""

import datetime as dt

import pytest
import time_machine

from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.models import ContentTracingPolicy, ProvenanceRecord
from accountability.rules.evidence import GENESIS_HASH, record_hash_of
from accountability.selectors import evidence as sel
from accountability.services import evidence_tracing as svc
from tests.factories import UseCaseFactory
from tests.ledger_reads import integrated

from .factories import ContentTracingPolicyFactory

pytestmark = pytest.mark.django_db
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def record(actor, uc, n=1, **overrides):
    args = {
        "use_case": uc,
        "trace_id": f"{n:032x}",
        "data_sources": ["applications-2026", "wage-records"],
        "model_name": "screener-gbm",
        "model_version": "2.1",
        "output_reference": f"case://{n}",
    }
    return svc.provenance_record_create(actor=actor, **{**args, **overrides})


def test_records_are_chained_and_anchored_in_the_ledger(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    first = record(staff_user, uc, trace_id=TRACE, output_hash="A" * 64)
    second = record(staff_user, uc, n=2)
    assert (first.sequence, first.previous_hash, first.output_hash) == (1, GENESIS_HASH, "a" * 64)
    assert (second.sequence, second.previous_hash) == (2, first.record_hash)
    assert record_hash_of(first) == first.record_hash
    assert first.record_hash != second.record_hash
    assert (first.chain_status, second.chain_status) == ("verified", "verified")
    entry = integrated(entry_id=first.ledger_entry_id).get()
    assert entry.action_type == "provenance.record"
    assert entry.document["action"]["inputs"][0]["changes"] == {
        "trace_id": TRACE,
        "sequence": 1,
        "record_hash": first.record_hash,
        "previous_hash": GENESIS_HASH,
    }
    assert ledger_count() == before + 2
    other_chain = record(staff_user, UseCaseFactory(project=project))
    assert (other_chain.sequence, other_chain.previous_hash) == (1, GENESIS_HASH)


@pytest.mark.parametrize(
    ("trace_id", "ok"),
    [
        (TRACE, True),
        ("0" * 32, False),  # all zero is invalid (W3C trace context)
        (TRACE.upper(), False),
        (TRACE[:-1], False),
        (TRACE + "0", False),
        ("g" * 32, False),
    ],
)
def test_trace_id_format(trace_id, ok, staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    if ok:
        assert record(staff_user, uc, trace_id=trace_id).trace_id == trace_id
        return
    with pytest.raises(ValidationFailed) as exc:
        record(staff_user, uc, trace_id=trace_id)
    assert exc.value.errors == {"trace_id": ["A W3C trace id: 32 lower-case hex digits, not all zero."]}
    assert (ProvenanceRecord.objects.count(), ledger_count()) == (0, before)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"data_sources": []}, "data_sources"),
        ({"data_sources": ["ok", " "]}, "data_sources"),
        ({"data_sources": "one"}, "data_sources"),
        ({"model_version": ""}, "model_version"),
        ({"output_reference": " "}, "output_reference"),
        ({"output_hash": "abc"}, "output_hash"),
        ({"generated_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, "generated_at"),
        ({"generated_at": dt.datetime(2026, 1, 1)}, "generated_at"),
    ],
)
def test_bad_provenance_input_writes_nothing(overrides, field, staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        record(staff_user, uc, **overrides)
    assert list(exc.value.errors) == [field]
    assert (ProvenanceRecord.objects.count(), ledger_count()) == (0, before)


def test_verification_finds_tampering_and_stores_status(staff_user, auditor_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    records = [record(staff_user, uc, n=n) for n in range(1, 5)]
    report = svc.provenance_verify_chain(actor=staff_user, use_case=uc)
    assert report.as_dict() == {
        "use_case_id": uc.public_id,
        "total": 4,
        "verified": 4,
        "broken": [],
        "percent_verifiable": 100.0,
    }
    # Someone with database access rewrites record 2's output and recomputes its hash: its ledger anchor
    # and record 3's link no longer match.
    second = records[1]
    second.output_reference = "case://forged"
    forged = record_hash_of(second)
    ProvenanceRecord.objects.filter(pk=second.pk).update(output_reference="case://forged", record_hash=forged)
    # Record 4's content is edited without touching its hash.
    ProvenanceRecord.objects.filter(pk=records[3].pk).update(model_version="9.9")
    read_only = sel.provenance_chain_check(auditor_user, uc)
    assert (read_only.total, read_only.verified) == (4, 1)
    assert ProvenanceRecord.objects.filter(chain_status="broken").count() == 0  # the auditor's check stores nothing
    before = ledger_count()
    report = svc.provenance_verify_chain(actor=staff_user, use_case=uc)
    assert report.broken == [
        {"id": records[1].public_id, "sequence": 2, "problem": "ledger anchor missing or different"},
        {"id": records[2].public_id, "sequence": 3, "problem": "not linked to the previous record"},
        {"id": records[3].public_id, "sequence": 4, "problem": "content does not match its hash"},
    ]
    assert report.percent_verifiable == 25.0
    assert list(
        ProvenanceRecord.objects.filter(use_case=uc).order_by("sequence").values_list("chain_status", flat=True)
    ) == [
        "verified",
        "broken",
        "broken",
        "broken",
    ]
    assert ledger_count() == before + 1
    assert integrated().last().action_type == "provenance.verify_chain"


def test_verification_reports_a_missing_record(staff_user, project):
    uc = UseCaseFactory(project=project)
    for n in range(1, 4):
        record(staff_user, uc, n=n)
    ProvenanceRecord.objects.filter(use_case=uc, sequence=2).delete()  # a deletion behind the portal's back
    report = svc.provenance_verify_chain(actor=staff_user, use_case=uc)
    assert report.broken == [
        {
            "id": ProvenanceRecord.objects.get(sequence=3).public_id,
            "sequence": 3,
            "problem": "sequence gap: expected #2",
        }
    ]


def propose(actor, project, **overrides):
    args = {
        "title": "Content tracing and provenance policy",
        "owner_name": "Grace Okafor",
        "scope": "Every chatbot answer and screener recommendation carries a trace id.",
        "methods": "W3C trace ids; hash-chained provenance records anchored in the ledger.",
        "retention_days": 400,
        "review_due_on": dt.date(2027, 3, 1),
        "tracing_enabled": True,
    }
    return svc.content_tracing_policy_propose(actor=actor, project=project, **{**args, **overrides})


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_policy_versions_and_approval(staff_user, caio_user, auditor_user, project, ledger_count):
    before = ledger_count()
    v1 = propose(staff_user, project, owner=staff_user, owner_name="")
    assert (v1.version, v1.status, v1.owner_name, v1.change_summary) == (1, "draft", "staff", "Initial version")
    assert sel.content_tracing_policy_current(auditor_user, project) is None
    with pytest.raises(NotAllowed, match="Separation of duties"):
        svc.content_tracing_policy_approve(actor=staff_user, policy_version=v1)
    v1 = svc.content_tracing_policy_approve(actor=caio_user, policy_version=v1)
    assert sel.content_tracing_policy_current(auditor_user, project) == v1
    with pytest.raises(ValidationFailed, match="change_summary"):
        propose(caio_user, project, retention_days=500)
    v2 = svc.content_tracing_policy_propose(
        actor=caio_user, project=project, retention_days=500, change_summary="Longer"
    )
    assert (v2.version, v2.retention_days, v2.title, v2.owner) == (2, 500, v1.title, staff_user)
    with pytest.raises(Conflict, match=r"\(v2\) is a draft"):
        propose(caio_user, project)
    svc.content_tracing_policy_approve(actor=staff_user, policy_version=v2)
    v1.refresh_from_db()
    assert (v1.status, v2.__class__.objects.get(pk=v2.pk).status) == ("superseded", "approved")
    assert ledger_count() == before + 4
    with time_machine.travel(dt.datetime(2027, 3, 2, 12, tzinfo=dt.UTC), tick=False):
        # Past its review date the approved policy is no longer current evidence.
        assert sel.content_tracing_policy_current(auditor_user, project) is None


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_policy_rules(staff_user, caio_user, project, ledger_count):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        propose(staff_user, project, retention_days=30)
    assert exc.value.errors == {"retention_days": ["Keep tracing records at least 183 days (policy minimum)."]}
    with pytest.raises(ValidationFailed) as exc:
        propose(staff_user, project, scope="", owner_name="")
    assert set(exc.value.errors) == {"scope", "owner_name"}
    assert (ContentTracingPolicy.objects.count(), ledger_count()) == (0, before)
    stale = propose(staff_user, project, review_due_on=dt.date(2026, 6, 1))
    with pytest.raises(ValidationFailed, match="review_due_on"):
        svc.content_tracing_policy_approve(actor=caio_user, policy_version=stale)
    discarded = svc.content_tracing_policy_discard(actor=staff_user, policy_version=stale, reason="Wrong date")
    assert discarded.status == "discarded"
    with pytest.raises(InvalidTransition, match="only a draft can be approved"):
        svc.content_tracing_policy_approve(actor=caio_user, policy_version=discarded)
    approved = ContentTracingPolicyFactory(
        project=project, version=2, status="approved", approved_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    with pytest.raises(InvalidTransition):
        svc.content_tracing_policy_discard(actor=staff_user, policy_version=approved, reason="r")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_linked(project):
    """Appenders of one chain are serialised by the use-case row lock: no duplicate sequence, no fork."""
    import threading

    from django.db import connection

    from tests.factories import MembershipFactory, UserFactory

    staff = UserFactory(username="writer")
    MembershipFactory(project=project, user=staff, role="governance_staff")
    uc = UseCaseFactory(project=project)
    errors, barrier = [], threading.Barrier(6)

    def append(n):
        try:
            barrier.wait()
            record(staff, uc, n=n)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    chain = list(ProvenanceRecord.objects.filter(use_case=uc).order_by("sequence"))
    assert [r.sequence for r in chain] == [1, 2, 3, 4, 5, 6]
    assert [r.previous_hash for r in chain] == [GENESIS_HASH] + [r.record_hash for r in chain[:-1]]
    assert svc.provenance_verify_chain(actor=staff, use_case=uc).percent_verifiable == 100.0
