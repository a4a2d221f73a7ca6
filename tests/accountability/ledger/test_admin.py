"""The ledger admin is read-only and scoped: entries with their explanation, proof and verification
status, filters by type, actor and time, metrics, and scope grants that change only through services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.ledger.admin import CappedPaginator, LogPaginator
from accountability.ledger.append import append_entry
from accountability.ledger.models import Checkpoint, LedgerEntry, ScopeGrant, VerificationRun
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
@pytest.mark.parametrize(
    ("kind", "finds"),
    [
        ("entry id", "other"),
        ("trace id", "traced"),
        ("task id", "traced"),
        ("model id", "both"),
        ("kind:id", "both"),
        ("person's username", "person"),
        ("part of an entry id", "none"),
        ("action type", "none"),
    ],
)
def test_searching_is_an_exact_lookup_through_an_index(client, superuser, project, grant, integrate, kind, finds):
    traced = append_entry(**action_entry(1, project_key=project.key, context={"trace_id": TRACE, "task_id": "T-9"}))
    other = append_entry(**action_entry(2, project_key=project.key))
    person = {"kind": "user", "id": "alice"}
    by_person = append_entry(**action_entry(3, project_key=project.key, entry_type="governance", actor=person))
    integrate()
    term = {
        "entry id": other.entry_id,
        "trace id": TRACE,
        "task id": "T-9",
        "model id": "claude-opus",
        "kind:id": "model:claude-opus",
        "person's username": "alice",
        "part of an entry id": other.entry_id[-10:],
        "action type": "eligibility.score",
    }[kind]
    expected = {
        "other": {other.entry_id},
        "traced": {traced.entry_id},
        "both": {traced.entry_id, other.entry_id},
        "person": {by_person.entry_id},
        "none": set(),
    }[finds]
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ADMIN + "ledgerentry/", {"q": term})
    assert response.status_code == 200
    assert {e.entry_id for e in response.context["cl"].result_list} == expected
    assert "a person&#x27;s username" in response.content.decode()  # the help text says what is searched
    like = [q["sql"] for q in queries.captured_queries if "ledger_ledgerentry" in q["sql"] and " LIKE " in q["sql"]]
    assert like == []  # nothing reads the log without an index


@pytest.mark.django_db
def test_the_project_and_actor_filters_offer_what_the_user_may_read(client, superuser, auditor_user, entries):
    client.force_login(superuser)
    specs = {spec.title: spec for spec in client.get(ADMIN + "ledgerentry/").context["cl"].filter_specs}
    projects = [("-", "(ledger-wide)"), ("proj-123", "proj-123"), ("proj-999", "proj-999")]
    assert specs["project"].lookup_choices == projects
    assert specs["actor"].lookup_choices == [
        ("model:claude-opus", "model:claude-opus"),
        ("system:cli:test", "system:cli:test"),
        ("system:ledger:genesis", "system:ledger:genesis"),
        ("system:ledger:policy", "system:ledger:policy"),
        *[(ref, ref if len(ref) < 40 else ref[:37] + "…") for ref in _person_refs()],
    ]
    client.force_login(auditor_user)  # proj-123 only (and the ledger-wide genesis)
    specs = {spec.title: spec for spec in client.get(ADMIN + "ledgerentry/").context["cl"].filter_specs}
    assert specs["project"].lookup_choices == [("-", "(ledger-wide)"), ("proj-123", "proj-123")]
    readable = LedgerEntry.objects.filter(project_key__in=["proj-123", ""]).values_list("actor_ref", flat=True)
    assert [ref for ref, _ in specs["actor"].lookup_choices] == sorted(set(readable))
    assert len(set(readable)) < len(set(LedgerEntry.objects.values_list("actor_ref", flat=True)))


def _person_refs() -> list[str]:
    """Actor refs of persons in the log (HMAC tokens), in order."""
    refs = LedgerEntry.objects.filter(actor_ref__startswith="user:").values_list("actor_ref", flat=True)
    return sorted(set(refs))


@pytest.mark.django_db
def test_the_list_counts_the_log_from_its_head_and_a_filtered_list_only_up_to_a_cap(
    client, superuser, entries, monkeypatch
):
    client.force_login(superuser)
    total = LedgerEntry.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ADMIN + "ledgerentry/")
    assert response.context["cl"].result_count == total
    assert not any("COUNT(" in q["sql"] and "ledger_ledgerentry" in q["sql"] for q in queries.captured_queries)
    assert f"{total} ledger entries" in response.content.decode()
    monkeypatch.setattr(LogPaginator, "CAP", 1)
    response = client.get(ADMIN + "ledgerentry/", {"entry_type__exact": "governance"})
    assert LedgerEntry.objects.filter(entry_type="governance").count() > 1
    assert response.context["cl"].result_count == 1
    assert response.context["cl"].paginator.capped is True
    assert "more than 1 ledger entry: filter or search to reach older ones" in response.content.decode()
    ours, _ = entries
    response = client.get(ADMIN + "ledgerentry/", {"q": ours.entry_id})
    assert response.context["cl"].result_count == 1
    assert response.context["cl"].paginator.capped is False
    assert "more than" not in response.content.decode()


@pytest.mark.django_db
def test_checkpoints_are_counted_up_to_a_cap_and_found_by_size(client, superuser, entries, integrate, monkeypatch):
    append_entry(**action_entry(9, project_key="proj-123"))
    integrate()  # and sign a checkpoint at the new size
    sizes = list(Checkpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True))
    assert len(sizes) >= 2
    client.force_login(superuser)
    monkeypatch.setattr(CappedPaginator, "CAP", 1)
    page = client.get(ADMIN + "checkpoint/")
    assert page.status_code == 200
    assert page.context["cl"].paginator.capped is True
    assert "more than 1 checkpoint: filter or search to reach older ones" in page.content.decode()
    found = client.get(ADMIN + "checkpoint/", {"q": str(sizes[-1])})
    assert [c.tree_size for c in found.context["cl"].result_list] == [sizes[-1]]
    assert "more than" not in found.content.decode()
    for term in ("abc", "-1", "１２", str(2**63)):
        assert client.get(ADMIN + "checkpoint/", {"q": term}).context["cl"].result_list.count() == 0
