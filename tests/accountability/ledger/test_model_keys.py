"""The model key registry: AI models' Ed25519 public keys registered and revoked through one service pair
(CAIO or governance staff), each change with its history row and Governance entry in one transaction;
read where the ledger is readable; the same operations from the admin, the API and the command line."""

from __future__ import annotations

import base64
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import transaction

from accountability.exceptions import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from accountability.ledger.models import ModelKey
from accountability.ledger.offline import signing
from accountability.ledger.selectors.model_keys import model_key_get, model_keys_list
from accountability.ledger.services.model_keys import model_key_register, model_key_revoke
from tests.ledger_reads import integrated

from .conftest import SYSTEM

URL = "/api/v1/ai-accountability/ledger/model-keys"
ADMIN = "/admin/ledger/modelkey/"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def raw_key(seed: int) -> bytes:
    """The raw public key of a fixed test seed."""
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32).public_key().public_bytes_raw()


def pub(seed: int) -> str:
    return base64.b64encode(raw_key(seed)).decode()


def kid(seed: int) -> str:
    return signing.key_id(raw_key(seed))


def history(key: ModelKey) -> list[tuple[str, str]]:
    return [(h.history_type, h.history_change_reason) for h in key.history.order_by("history_id")]


def snapshot() -> tuple:
    return (
        list(ModelKey.objects.order_by("pk").values_list("pk", "kid", "revoked_at")),
        ModelKey.history.count(),
    )


@pytest.fixture
def key(project, caio_user):
    """claude-opus's key of seed 1 in ``project``, registered by the CAIO."""
    return model_key_register(actor=caio_user, project=project, model_id="claude-opus", public_key=pub(1))


@pytest.fixture
def keys(project, other_project, key):
    """Three more keys: a revoked one of claude-opus and gemini-pro's in ``project``, and one in the other project."""
    old = model_key_register(actor=SYSTEM, project=project, model_id="claude-opus", public_key=pub(2))
    model_key_revoke(actor=SYSTEM, key=old, reason="rotated")
    gemini = model_key_register(actor=SYSTEM, project=project, model_id="gemini-pro", public_key=pub(3))
    elsewhere = model_key_register(actor=SYSTEM, project=other_project, model_id="claude-opus", public_key=pub(4))
    return {"active": key, "revoked": old, "gemini": gemini, "elsewhere": elsewhere}


# --- services ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_registering_writes_the_key_its_history_and_a_governance_entry(project, caio_user, ledger_count):
    before = ledger_count()
    key = model_key_register(
        actor=caio_user, project=project, model_id=" claude-opus ", public_key=f" {pub(1)}\n", reason="pilot agent"
    )
    key.refresh_from_db()
    assert (key.project, key.model_id, key.kid, key.public_key) == (project, "claude-opus", kid(1), pub(1))
    assert (key.reason, key.registered_by, key.revoked_at) == ("pilot agent", caio_user, None)
    assert history(key) == [("+", "model key registered (by caio)")]
    assert key.history.get().history_user == caio_user
    assert ledger_count() == before + 1
    entry = integrated(action_type="ledger.model_key_register").get()
    assert (entry.entry_type, entry.project_key) == ("governance", "proj-123")
    action = entry.document["action"]
    assert action["inputs"] == [{"changes": {"model_id": "claude-opus", "kid": kid(1), "public_key": pub(1)}}]
    assert action["rationale"] == "pilot agent"
    assert action["description"] == f"claude-opus signs with key {kid(1)} in proj-123"
    subject = action["outputs"][0]
    assert (subject["model"], subject["pk"]) == ("ledger.ModelKey", key.pk)
    assert subject["history_id"] == key.history.get().history_id


@pytest.mark.django_db
def test_revoking_writes_its_history_and_a_governance_entry(key, staff_user, ledger_count):
    before = ledger_count()
    revoked = model_key_revoke(actor=staff_user, key=key, reason=" key leaked ")
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_at == revoked.revoked_at
    assert (key.revoked_by, key.revoke_reason) == (staff_user, "key leaked")
    assert history(key) == [("+", "model key registered (by caio)"), ("~", "model key revoked (by staff)")]
    assert ledger_count() == before + 1
    action = integrated(action_type="ledger.model_key_revoke").get().document["action"]
    assert action["rationale"] == "key leaked"
    assert action["inputs"] == [{"changes": {"model_id": "claude-opus", "kid": kid(1)}}]
    assert action["outputs"][0]["history_id"] == key.history.latest("history_id").history_id


@pytest.mark.django_db
def test_the_key_history_and_entry_roll_back_together(project, caio_user, ledger_count):
    def then_fail(service, **kwargs):
        with transaction.atomic():
            service(**kwargs)
            raise RuntimeError("the caller's transaction fails after the service")

    before = ledger_count()
    with pytest.raises(RuntimeError):
        then_fail(model_key_register, actor=caio_user, project=project, model_id="claude-opus", public_key=pub(1))
    assert snapshot() == ([], 0)
    assert ledger_count() == before
    key = model_key_register(actor=caio_user, project=project, model_id="claude-opus", public_key=pub(1))
    with pytest.raises(RuntimeError):
        then_fail(model_key_revoke, actor=caio_user, key=key, reason="leaked")
    key.refresh_from_db()
    assert key.revoked_at is None
    assert key.history.count() == 1
    assert ledger_count() == before + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona_name", "error"),
    [
        ("governance_staff", None),
        ("caio", None),
        ("auditor", NotAllowed),
        ("reviewer", NotAllowed),
        ("incident_responder", NotAllowed),
        ("outsider", NotFound),
    ],
)
def test_only_the_caio_and_governance_staff_register_and_revoke(project, persona, persona_name, error, ledger_count):
    actor = persona(persona_name)
    old = model_key_register(actor=SYSTEM, project=project, model_id="claude-opus", public_key=pub(9))
    before, ledger_before = snapshot(), ledger_count()
    if error is None:
        model_key_register(actor=actor, project=project, model_id="claude-opus", public_key=pub(1))
        model_key_revoke(actor=actor, key=old, reason="rotated")
        assert ledger_count() == ledger_before + 2
        return
    with pytest.raises(error) as exc:
        model_key_register(actor=actor, project=project, model_id="claude-opus", public_key=pub(1))
    if error is NotAllowed:
        assert exc.value.message == "Only the CAIO or governance staff register AI model keys."
    with pytest.raises(error) as exc:
        model_key_revoke(actor=actor, key=old, reason="rotated")
    if error is NotAllowed:
        assert exc.value.message == "Only the CAIO or governance staff revoke AI model keys."
    assert snapshot() == before
    assert ledger_count() == ledger_before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model_id", "public_key", "field", "message"),
    [
        ("x y", pub(1), "model_id", "The model id as entries name it (no spaces, at most 200 characters)."),
        ("", pub(1), "model_id", "The model id as entries name it (no spaces, at most 200 characters)."),
        ("m" * 201, pub(1), "model_id", "The model id as entries name it (no spaces, at most 200 characters)."),
        ("claude-opus", "", "public_key", "(public key must be 32 bytes, not 0)."),
        ("claude-opus", "not base64!", "public_key", "(public key is not valid base64)."),
        ("claude-opus", base64.b64encode(bytes(31)).decode(), "public_key", "(public key must be 32 bytes, not 31)."),
        ("claude-opus", base64.b64encode(bytes(33)).decode(), "public_key", "(public key must be 32 bytes, not 33)."),
        ("claude-opus", None, "public_key", "(public key must be a base64 string)."),
    ],
)
def test_bad_input_is_refused_with_a_field_message_and_writes_nothing(
    project, caio_user, ledger_count, model_id, public_key, field, message
):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        model_key_register(actor=caio_user, project=project, model_id=model_id, public_key=public_key)
    assert list(exc.value.errors) == [field]
    assert exc.value.errors[field][0].endswith(message)
    assert snapshot() == ([], 0)
    assert ledger_count() == before


@pytest.mark.django_db
def test_a_key_is_registered_once_per_project_and_never_again_after_revocation(
    project, other_project, caio_user, key, ledger_count
):
    refused = f"This key (kid {kid(1)}) is already registered in proj-123; a revoked key is never registered again."
    # The same bytes in another base64 spelling (different padding bits) are the same key.
    text = pub(1)
    respelled = text[:42] + B64[B64.index(text[42]) ^ 1] + "="
    assert respelled != text
    assert base64.b64decode(respelled) == raw_key(1)
    before, ledger_before = snapshot(), ledger_count()
    for model_id, public_key in [("claude-opus", text), ("gemini-pro", text), ("claude-opus", respelled)]:
        with pytest.raises(ValidationFailed) as exc:
            model_key_register(actor=caio_user, project=project, model_id=model_id, public_key=public_key)
        assert exc.value.errors == {"public_key": [refused]}
    model_key_revoke(actor=caio_user, key=key, reason="leaked")
    with pytest.raises(ValidationFailed) as exc:
        model_key_register(actor=caio_user, project=project, model_id="claude-opus", public_key=text)
    assert exc.value.errors == {"public_key": [refused]}
    assert ModelKey.objects.count() == len(before[0])
    assert ledger_count() == ledger_before + 1  # the revocation only
    # Another project is another registry.
    elsewhere = model_key_register(actor=SYSTEM, project=other_project, model_id="claude-opus", public_key=respelled)
    assert (elsewhere.kid, elsewhere.public_key) == (kid(1), text)


@pytest.mark.django_db
def test_a_key_is_revoked_once_and_only_with_a_reason(key, caio_user, ledger_count):
    before = ledger_count()
    for reason in ("", "   ", None):
        with pytest.raises(ValidationFailed) as exc:
            model_key_revoke(actor=caio_user, key=key, reason=reason)
        assert exc.value.errors == {"reason": ["Say why the key is revoked."]}
    key.refresh_from_db()
    assert key.revoked_at is None
    model_key_revoke(actor=caio_user, key=key, reason="leaked")
    with pytest.raises(InvalidTransition) as exc:
        model_key_revoke(actor=caio_user, key=key, reason="again")
    assert exc.value.message == f"Key {kid(1)} of claude-opus was already revoked."
    key.refresh_from_db()
    assert key.revoke_reason == "leaked"
    assert key.history.count() == 2
    assert ledger_count() == before + 1


# --- selectors -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_keys_are_listed_from_the_projects_whose_ledger_the_actor_reads(keys, auditor_user, superuser):
    def kids(actor, **filters):
        return [k.kid for k in model_keys_list(actor, **filters)]

    # By project, model, then newest first.
    assert kids(auditor_user) == [kid(2), kid(1), kid(3)]
    assert kids(superuser) == [kid(2), kid(1), kid(3), kid(4)]
    assert kids(superuser, project="proj-999") == [kid(4)]
    assert kids(auditor_user, project=keys["active"].project) == [kid(2), kid(1), kid(3)]
    assert kids(auditor_user, model_id="claude-opus", active=True) == [kid(1)]
    assert kids(auditor_user, active=False) == [kid(2)]
    assert kids(auditor_user, model_id="nobody") == []
    with pytest.raises(NotFound) as exc:
        model_keys_list(auditor_user, project="proj-999")
    assert exc.value.message == "No project 'proj-999'."
    with pytest.raises(NotFound) as exc:
        model_keys_list(auditor_user, project="proj-nope")
    assert exc.value.message == "No project 'proj-nope'."


@pytest.mark.django_db
def test_a_member_without_the_ledger_reads_no_keys(keys, responder_user):
    with pytest.raises(NotAllowed):
        model_keys_list(responder_user)
    with pytest.raises(NotFound):
        model_key_get(responder_user, "proj-123", kid(1))


@pytest.mark.django_db
def test_a_key_is_found_by_project_and_kid_revealing_nothing_of_other_projects(keys, auditor_user):
    assert model_key_get(auditor_user, "proj-123", kid(1)) == keys["active"]
    assert model_key_get(auditor_user, " proj-123 ", f" {kid(2)} ") == keys["revoked"]
    for project_key, key_id in [("proj-999", kid(4)), ("proj-123", kid(4)), ("proj-nope", kid(1))]:
        with pytest.raises(NotFound) as exc:
            model_key_get(auditor_user, project_key, key_id)
        assert exc.value.message == f"No model key {key_id!r} in project {project_key!r}."


# --- admin ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_adds_and_revokes_keys_through_the_services(client, caio_user, project, ledger_count):
    client.force_login(caio_user)
    before = ledger_count()
    add = client.get(ADMIN + "add/").content.decode()
    for name in ("project", "model_id", "public_key", "reason"):
        assert f'name="{name}"' in add
    response = client.post(
        ADMIN + "add/", {"project": project.pk, "model_id": "gemini-pro", "public_key": pub(1), "reason": "pilot"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    key = ModelKey.objects.get()
    assert (key.model_id, key.kid, key.registered_by, key.reason) == ("gemini-pro", kid(1), caio_user, "pilot")
    assert ledger_count() == before + 1
    page = client.get(f"{ADMIN}{key.pk}/change/").content.decode()
    assert f"{ADMIN}{key.pk}/do/revoke/" in page
    assert 'name="_save"' not in page  # read-only: revoke it and register another
    response = client.post(f"{ADMIN}{key.pk}/do/revoke/", {"reason": ""})
    assert response.status_code == 200  # the reason is required
    response = client.post(f"{ADMIN}{key.pk}/do/revoke/", {"reason": "pilot over"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.revoke_reason, key.revoked_by) == ("pilot over", caio_user)
    assert ledger_count() == before + 2
    assert f"{ADMIN}{key.pk}/do/revoke/" not in client.get(f"{ADMIN}{key.pk}/change/").content.decode()
    hist = client.get(f"{ADMIN}{key.pk}/history/")
    assert hist.status_code == 200
    assert "model key revoked (by caio)" in hist.content.decode()
    # Nothing is changed or deleted here.
    changed = client.post(f"{ADMIN}{key.pk}/change/", {"project": project.pk, "model_id": "x", "public_key": pub(2)})
    assert changed.status_code == 403
    assert client.post(f"{ADMIN}{key.pk}/delete/", {"post": "yes"}).status_code == 403
    key.refresh_from_db()
    assert (ModelKey.objects.count(), key.model_id, key.public_key) == (1, "gemini-pro", pub(1))


@pytest.mark.django_db
def test_admin_refuses_bad_keys_with_the_services_message(client, caio_user, project, key, ledger_count):
    client.force_login(caio_user)
    before = ledger_count()
    for public_key, message in [
        ("not base64!", "public key is not valid base64"),
        (pub(1), f"This key (kid {kid(1)}) is already registered in proj-123"),
    ]:
        response = client.post(
            ADMIN + "add/", {"project": project.pk, "model_id": "gemini-pro", "public_key": public_key}
        )
        assert response.status_code == 200
        assert message in response.content.decode()
    assert ModelKey.objects.count() == 1
    assert ledger_count() == before


@pytest.mark.django_db
def test_admin_lists_filters_and_searches_the_keys_a_user_may_read(client, keys, auditor_user):
    client.force_login(auditor_user)

    def listed(query=""):
        page = client.get(ADMIN + query)
        assert page.status_code == 200
        return {k for k in (kid(n) for n in range(1, 5)) if k in page.content.decode()}

    assert listed() == {kid(1), kid(2), kid(3)}
    assert "Other agency" not in client.get(ADMIN).content.decode()  # not even in the project filter
    assert listed("?state=active") == {kid(1), kid(3)}
    assert listed("?state=revoked") == {kid(2)}
    assert listed(f"?q={kid(3)[:6]}") == {kid(3)}
    assert listed("?q=claude") == {kid(1), kid(2)}
    assert client.get(f"{ADMIN}{keys['elsewhere'].pk}/change/").status_code == 302  # not visible: to the index
    assert client.get(ADMIN + "add/").status_code == 403  # an auditor registers nothing


# --- API -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lists_keys_a_page_at_a_time_with_filters(api, keys, auditor_user):
    client = api.as_user(auditor_user)
    data = client.get(URL).json()
    assert data["count"] == 3
    assert [k["kid"] for k in data["results"]] == [kid(2), kid(1), kid(3)]
    first = data["results"][1]
    assert first == {
        "project": "proj-123",
        "model_id": "claude-opus",
        "kid": kid(1),
        "alg": "ed25519",
        "public_key": pub(1),
        "active": True,
        "reason": "",
        "registered_by": "caio",
        "registered_at": first["registered_at"],
        "revoked_at": None,
        "revoked_by": None,
        "revoke_reason": "",
    }
    page = client.get(URL, {"page_size": 2}).json()
    assert [k["kid"] for k in page["results"]] == [kid(2), kid(1)]
    assert page["next"].endswith("page=2&page_size=2")
    filtered = client.get(URL, {"project": "proj-123", "model_id": "claude-opus", "active": "false"}).json()
    assert [(k["kid"], k["active"], k["revoke_reason"]) for k in filtered["results"]] == [(kid(2), False, "rotated")]
    assert [k["kid"] for k in client.get(URL, {"active": "true"}).json()["results"]] == [kid(1), kid(3)]
    bad = client.get(URL, {"active": "maybe"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"active": ["true (unrevoked keys) or false (revoked keys)."]}
    assert client.get(URL, {"project": "proj-999"}).status_code == 404


@pytest.mark.django_db
def test_api_refuses_the_list_to_members_who_do_not_read_the_ledger(api, keys, responder_user):
    assert api.as_user(responder_user).get(URL).status_code == 403


@pytest.mark.django_db
def test_api_registers_a_key(api, caio_user, project, ledger_count):
    before = ledger_count()
    body = {"project": "proj-123", "model_id": "claude-opus", "public_key": pub(1), "reason": "pilot"}
    response = api.as_user(caio_user).post(URL, body)
    assert response.status_code == 201
    data = response.json()
    assert (data["kid"], data["public_key"], data["active"], data["registered_by"]) == (kid(1), pub(1), True, "caio")
    assert ModelKey.objects.get().kid == kid(1)
    assert ledger_count() == before + 1
    again = api.as_user(caio_user).post(URL, body)
    assert again.status_code == 400
    assert again.json()["errors"] == {
        "public_key": [
            f"This key (kid {kid(1)}) is already registered in proj-123; a revoked key is never registered again."
        ]
    }
    assert ledger_count() == before + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"public_key": "not base64!"}, "public_key"),
        ({"public_key": base64.b64encode(bytes(31)).decode()}, "public_key"),
        ({"model_id": "x y"}, "model_id"),
        ({"model_id": ""}, "model_id"),
        ({"public_key": None}, "public_key"),
        ({"project": ""}, "project"),
    ],
)
def test_api_answers_bad_input_400_with_field_messages(api, caio_user, project, ledger_count, changes, field):
    before = ledger_count()
    body = {"project": "proj-123", "model_id": "claude-opus", "public_key": pub(1), **changes}
    response = api.as_user(caio_user).post(URL, body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert snapshot() == ([], 0)
    assert ledger_count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("persona_name", "code"), [("auditor", 403), ("incident_responder", 403), ("outsider", 404)])
def test_api_register_and_revoke_are_refused_to_other_roles(api, key, persona, persona_name, code, ledger_count):
    before, ledger_before = snapshot(), ledger_count()
    client = api.as_user(persona(persona_name))
    body = {"project": "proj-123", "model_id": "claude-opus", "public_key": pub(2)}
    assert client.post(URL, body).status_code == code
    # Revoking needs the key first: those who cannot read the ledger learn nothing of it (404).
    revoke_code = 403 if persona_name == "auditor" else 404
    assert client.post(f"{URL}/proj-123/{kid(1)}/revoke", {"reason": "x"}).status_code == revoke_code
    assert snapshot() == before
    assert ledger_count() == ledger_before


@pytest.mark.django_db
def test_api_reads_and_revokes_one_key(api, keys, auditor_user, staff_user, ledger_count):
    detail = api.as_user(auditor_user).get(f"{URL}/proj-123/{kid(1)}")
    assert detail.status_code == 200
    assert (detail.json()["kid"], detail.json()["model_id"]) == (kid(1), "claude-opus")
    for path in (f"{URL}/proj-999/{kid(4)}", f"{URL}/proj-123/{kid(4)}", f"{URL}/proj-123/0000000000000000"):
        missing = api.as_user(auditor_user).get(path)
        assert missing.status_code == 404
        assert missing.json()["code"] == "not_found"
    before = ledger_count()
    client = api.as_user(staff_user)
    blank = client.post(f"{URL}/proj-123/{kid(1)}/revoke", {})
    assert blank.status_code == 400
    assert blank.json()["errors"] == {"reason": ["Say why the key is revoked."]}
    response = client.post(f"{URL}/proj-123/{kid(1)}/revoke", {"reason": "leaked"})
    assert response.status_code == 200
    data = response.json()
    assert (data["active"], data["revoked_by"], data["revoke_reason"]) == (False, "staff", "leaked")
    again = client.post(f"{URL}/proj-123/{kid(1)}/revoke", {"reason": "leaked"})
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert client.post(f"{URL}/proj-999/{kid(4)}/revoke", {"reason": "x"}).status_code == 404
    assert ledger_count() == before + 1


@pytest.mark.django_db
def test_the_openapi_schema_describes_the_model_key_endpoints(api, staff_user, capsys):
    response = api.as_user(staff_user).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    base = "/api/v1/ai-accountability/ledger/model-keys"
    assert set(paths[base]) == {"get", "post"}
    assert set(paths[base + "/{project}/{kid}"]) == {"get"}
    assert set(paths[base + "/{project}/{kid}/revoke"]) == {"post"}
    assert "Warning" not in capsys.readouterr().err


# --- command line --------------------------------------------------------------------------------


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ledger_model_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_cli_registers_lists_and_revokes(project, caio_user, auditor_user, ledger_count):
    before = ledger_count()
    out, _ = run(
        "register",
        "--project",
        "proj-123",
        "--model",
        "claude-opus",
        "--public-key",
        pub(1),
        "--user",
        "caio",
        "--json",
    )
    data = json.loads(out)
    assert (data["project"], data["model_id"], data["kid"], data["active"]) == ("proj-123", "claude-opus", kid(1), True)
    out, _ = run("register", "--project", "proj-123", "--model", "gemini-pro", "--public-key", pub(2), "--user", "caio")
    assert f"kid: {kid(2)}" in out.splitlines()
    assert ledger_count() == before + 2
    listed = json.loads(run("list", "--user", "auditor", "--json")[0])
    assert [(k["model_id"], k["kid"]) for k in listed] == [("claude-opus", kid(1)), ("gemini-pro", kid(2))]
    out, _ = run("revoke", "--project", "proj-123", "--kid", kid(1), "--reason", "leaked", "--user", "caio", "--json")
    assert (json.loads(out)["active"], json.loads(out)["revoke_reason"]) == (False, "leaked")
    assert ledger_count() == before + 3
    assert [k["kid"] for k in json.loads(run("list", "--active", "--user", "auditor", "--json")[0])] == [kid(2)]
    assert [k["kid"] for k in json.loads(run("list", "--revoked", "--user", "auditor", "--json")[0])] == [kid(1)]
    filtered = run("list", "--project", "proj-123", "--model", "gemini-pro", "--user", "auditor", "--json")[0]
    assert [k["kid"] for k in json.loads(filtered)] == [kid(2)]
    table, _ = run("list", "--user", "auditor")
    assert "Model keys" in table
    for text in (kid(1), "revoked", kid(2), "active"):
        assert text in table


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "returncode", "message"),
    [
        (
            ["register", "--project", "proj-123", "--model", "m", "--public-key", "nope!", "--user", "caio"],
            2,
            "public_key",
        ),
        (
            ["register", "--project", "proj-123", "--model", "x y", "--public-key", pub(2), "--user", "caio"],
            2,
            "model_id",
        ),
        (["register", "--project", "proj-123", "--model", "m", "--public-key", pub(1), "--user", "caio"], 2, kid(1)),
        (
            ["register", "--project", "proj-999", "--model", "m", "--public-key", pub(2), "--user", "caio"],
            3,
            "not_found",
        ),
        (
            ["register", "--project", "proj-123", "--model", "m", "--public-key", pub(2), "--user", "auditor"],
            3,
            "not_allowed",
        ),
        (["revoke", "--project", "proj-123", "--kid", kid(1), "--reason", " ", "--user", "caio"], 2, "reason"),
        (
            ["revoke", "--project", "proj-123", "--kid", "0000000000000000", "--reason", "x", "--user", "caio"],
            3,
            "not_found",
        ),
        (["revoke", "--project", "proj-123", "--kid", kid(1), "--user", "caio"], 1, "--reason"),
        (["list", "--active", "--revoked", "--user", "auditor"], 1, "not allowed with argument"),
        (["list", "--project", "proj-999", "--user", "auditor"], 3, "not_found"),
        (["list", "--user", "nobody"], 1, "No active user 'nobody'."),
        (["list"], 1, "--user"),
    ],
)
def test_cli_bad_input_exits_non_zero_and_writes_nothing(
    key, auditor_user, ledger_count, monkeypatch, args, returncode, message
):
    monkeypatch.delenv("ICDEV_USER", raising=False)
    before, ledger_before = snapshot(), ledger_count()
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == returncode
    assert message in str(exc.value)
    assert snapshot() == before
    assert ledger_count() == ledger_before
