"""The ledger admin is read-only and scoped: entries with their explanation, proof and verification
status, filters by type, actor and time, metrics, and scope grants that change only through services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerEntry, ScopeGrant, VerificationRun
from accountability.ledger.services.entries import ledger_entry_append

from .conftest import SYSTEM, action_entry, decision

ADMIN = "/admin/ledger/"


@pytest.fixture
def entries(project, other_project, staff_user, grant, integrate):
    ours = ledger_entry_append(actor=staff_user, project=project, **decision())
    theirs = ledger_entry_append(actor=SYSTEM, project=other_project, **decision())
    integrate()
    return LedgerEntry.objects.get(entry_id=ours.entry_id), LedgerEntry.objects.get(entry_id=theirs.entry_id)


@pytest.mark.django_db
def test_nobody_can_add_change_or_delete_entries(client, superuser, entries):
    ours, _ = entries
    client.force_login(superuser)
    assert client.get(ADMIN + "ledgerentry/add/").status_code == 403
    assert client.get(ADMIN + f"ledgerentry/{ours.seq}/delete/").status_code == 403
    page = client.get(ADMIN + f"ledgerentry/{ours.seq}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(ADMIN + f"ledgerentry/{ours.seq}/change/", {"entry_type": "action"}).status_code == 403
    assert b"delete_selected" not in client.get(ADMIN + "ledgerentry/").content
    for model in ("checkpoint", "verificationrun", "pendingentry", "signingkey"):
        assert client.get(ADMIN + f"{model}/add/").status_code == 403


@pytest.mark.django_db
def test_the_entry_page_explains_proves_and_shows_the_document(client, auditor_user, entries):
    ours, _ = entries
    client.force_login(auditor_user)
    page = client.get(ADMIN + f"ledgerentry/{ours.seq}/change/").content.decode()
    assert "made a decision: Flagged application APP-1 for manual review" in page
    assert "verifies ✓" in page
    assert "c2sp.org/tlog-proof@v1" in page
    assert bytes(ours.entry_hash).hex() in page
    assert "eligibility.prescreen" in page


@pytest.mark.django_db
def test_entries_are_scoped_to_projects_with_history_view(client, auditor_user, outsider, reviewer_user, entries):
    ours, theirs = entries
    client.force_login(auditor_user)
    listing = client.get(ADMIN + "ledgerentry/").content.decode()
    assert ours.entry_id in listing
    assert theirs.entry_id not in listing
    assert client.get(ADMIN + f"ledgerentry/{theirs.seq}/change/").status_code == 302  # "does not exist"
    client.force_login(outsider)
    listing = client.get(ADMIN + "ledgerentry/").content.decode()
    assert theirs.entry_id in listing
    assert ours.entry_id not in listing
    client.force_login(reviewer_user)  # not staff, and no history.view
    assert client.get(ADMIN + "ledgerentry/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("entry_type__exact=decision", {"decision"}),
        ("entry_type__exact=governance", {"governance"}),
        ("actor=model%3Aclaude-opus", {"decision"}),
        ("actor=system%3Aledger%3Agenesis", {"governance"}),
        ("occurred_at__year=2000", set()),
        ("occurred_at__gte=2000-01-01T00:00:00%2B00:00&occurred_at__lt=2001-01-01T00:00:00%2B00:00", set()),
        ("occurred_at__gte=2000-01-01T00:00:00%2B00:00", {"decision", "governance", "violation"}),
        ("project=proj-123", {"decision", "governance"}),
        ("payload=purged", set()),
    ],
)
def test_filters_by_type_actor_and_time(client, superuser, entries, query, expected):
    client.force_login(superuser)
    response = client.get(ADMIN + f"ledgerentry/?{query}")
    assert response.status_code == 200
    shown = {e.entry_type for e in response.context["cl"].result_list}
    assert shown == expected


@pytest.mark.django_db
def test_the_changelist_shows_the_verification_status_and_metrics(client, auditor_user, entries):
    client.force_login(auditor_user)
    assert "never verified" in client.get(ADMIN + "ledgerentry/").content.decode()
    metrics = client.get(ADMIN + "ledgerentry/metrics/")
    assert metrics.status_code == 200
    for name in (
        "entries_per_day",
        "chain_integrity",
        "violation_rate",
        "audit_response_time",
        "attribution_completeness",
    ):
        assert name in metrics.content.decode()
    response = client.post(ADMIN + "ledgerentry/metrics/", {"mode": "full"})
    assert response.status_code == 302
    assert VerificationRun.objects.get().ok
    assert "chain integrity 100.0 %" in client.get(ADMIN + "ledgerentry/").content.decode()


@pytest.mark.django_db
def test_scope_grants_are_added_and_revoked_through_services(client, caio_user, project, ledger_count, integrate):
    client.force_login(caio_user)
    before = ledger_count()
    response = client.post(
        "/admin/ledger/scopegrant/add/",
        {"project": project.pk, "model_id": "gemini-pro", "action_types": "code.review, data.*", "reason": "pilot"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = ScopeGrant.objects.get(model_id="gemini-pro")
    assert grant.action_types == ["code.review", "data.*"]
    assert grant.granted_by == caio_user
    assert ledger_count() == before + 1
    response = client.post(f"/admin/ledger/scopegrant/{grant.pk}/do/revoke/", {"reason": "pilot over"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert ledger_count() == before + 2
    bad = client.post("/admin/ledger/scopegrant/add/", {"project": project.pk, "model_id": "x y", "action_types": "ok"})
    assert bad.status_code == 200
    assert ledger_count() == before + 2


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["entry id", "trace id", "substring"])
def test_searching_an_entry_or_trace_id_is_an_exact_lookup_and_any_other_term_a_substring_search(
    client, superuser, project, grant, integrate, kind
):
    traced = append_entry(**action_entry(1, project_key=project.key, context={"trace_id": TRACE}))
    other = append_entry(**action_entry(2, project_key=project.key))
    integrate()
    term = {"entry id": other.entry_id, "trace id": TRACE, "substring": other.entry_id[-10:].lower()}[kind]
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ADMIN + "ledgerentry/", {"q": term})
    assert response.status_code == 200
    shown = [e.entry_id for e in response.context["cl"].result_list]
    assert shown == [traced.entry_id if kind == "trace id" else other.entry_id]
    like = [q["sql"] for q in queries.captured_queries if "ledger_ledgerentry" in q["sql"] and " LIKE " in q["sql"]]
    assert bool(like) is (kind == "substring")  # only the substring search reads without an index
