"""Model signatures on submitted records (the seed's integrity.signatures): a record the model signed
is accepted only when its one signature verifies with a key registered for that model in that project
and not revoked, names its project and time, arrives within 15 minutes and only once; the entry keeps
{alg, kid, digest, sig}, and the API shows it. Anything else is answered 400 (409 for a replay) with
nothing written."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from io import StringIO

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.utils import timezone

from accountability.exceptions import ValidationFailed
from accountability.ledger import keys
from accountability.ledger.models import LedgerEntry, ModelKey, PendingEntry
from accountability.ledger.offline import signing
from accountability.ledger.services.entries import ledger_entry_append

from .conftest import DECISION, MODEL
from .test_offline import crypto_only  # noqa: F401 - a fixture

URL = "/api/v1/ai-accountability/ledger/"
SEED = bytes(range(32))  # a fixed test key: signatures are deterministic with Ed25519


def _private(seed: bytes = SEED) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def _register(project, model_id="claude-opus", seed=SEED, revoked_at=None) -> ModelKey:
    public = _private(seed).public_key().public_bytes_raw()
    return ModelKey.objects.create(
        project=project,
        model_id=model_id,
        kid=signing.key_id(public),
        public_key=signing.b64(public),
        registered_at=timezone.now() - dt.timedelta(days=1),
        revoked_at=revoked_at,
    )


def _record(proj, **changes) -> dict:
    """The decision as a client sends it to the entries API, with its project and time."""
    body = {k: v for k, v in DECISION.items() if k != "performer"} | {"actor": MODEL}
    body |= {"project": proj.key, "occurred_at": timezone.now().isoformat()}
    body.update(changes)
    return body


def _signed(record: dict, seed: bytes = SEED, origin: str | None = None) -> dict:
    return signing.sign(_private(seed), origin or keys.origin(), record)


def _stored() -> int:
    return LedgerEntry.objects.count() + PendingEntry.objects.count()


@pytest.mark.django_db
def test_a_signed_record_is_kept_with_its_signature_and_shown_by_the_api(
    api, staff_user, auditor_user, project, grant, integrate
):
    key = _register(project)
    body = _signed(_record(project))
    response = api.as_user(staff_user).post(URL + "entries", body, format="json")
    assert response.status_code in (201, 202), response.json()
    entry_id = response.json()["entry_id"]
    integrate()
    digest = hashlib.sha256(rfc8785.dumps({k: v for k, v in body.items() if k != "model_signatures"})).digest()
    stored = {
        "alg": "ed25519",
        "digest": signing.b64(digest),
        "kid": key.kid,
        "sig": body["model_signatures"][0]["sig"],
    }
    entry = LedgerEntry.objects.get(entry_id=entry_id)
    assert entry.document["integrity"] == {"signatures": [stored]}
    assert signing.verify_stored(stored, base64.b64decode(key.public_key), keys.origin()) == ""
    shown = api.as_user(auditor_user).get(URL + f"entries/{entry_id}").json()["entry"]
    assert shown["integrity"]["signatures"] == [stored]
    assert shown["integrity"]["checkpoint_signatures"][0].startswith("\u2014 " + keys.origin())


def _refused(api, user, body, status=400) -> dict:
    before = _stored()
    response = api.as_user(user).post(URL + "entries", body, format="json")
    assert response.status_code == status, response.json()
    assert _stored() == before
    return response.json()["errors"] if status == 400 else response.json()


@pytest.mark.django_db
def test_a_record_changed_after_signing_is_refused(api, staff_user, project, grant):
    _register(project)
    body = _signed(_record(project))
    body["action"] = {**body["action"], "description": "Approved application APP-1"}
    errors = _refused(api, staff_user, body)
    assert list(errors) == ["model_signatures[0].sig"]
    assert "Does not verify" in errors["model_signatures[0].sig"][0]


@pytest.mark.django_db
def test_a_signature_for_another_log_is_refused(api, staff_user, project, grant):
    _register(project)
    errors = _refused(api, staff_user, _signed(_record(project), origin="other.example/ai-ledger/v1"))
    assert list(errors) == ["model_signatures[0].sig"]


@pytest.mark.django_db
def test_keys_must_be_registered_for_that_model_in_that_project_and_live(
    api, staff_user, project, other_project, grant
):
    body = _signed(_record(project))
    errors = _refused(api, staff_user, body)  # no key at all
    assert errors == {
        "model_signatures[0].kid": [
            f"No key {body['model_signatures'][0]['kid']} is registered for claude-opus in {project.key}."
        ]
    }
    _register(other_project)  # the same key, but in another project
    assert list(_refused(api, staff_user, body)) == ["model_signatures[0].kid"]
    other_model = _register(project, model_id="gpt-x")
    assert list(_refused(api, staff_user, body)) == ["model_signatures[0].kid"]
    other_model.delete()
    _register(project, revoked_at=timezone.now() - dt.timedelta(minutes=1))
    errors = _refused(api, staff_user, body)
    assert "was revoked" in errors["model_signatures[0].kid"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": None}, "occurred_at"),
        ({"occurred_at": "2026-11-23T10:00:00"}, "occurred_at"),  # no timezone
        ({"actor": {"kind": "system", "id": "scheduler"}}, "actor"),
    ],
)
def test_a_signed_record_names_its_project_time_and_model(api, staff_user, project, grant, change, field):
    _register(project)
    record = {k: v for k, v in _record(project, **change).items() if v is not None}
    errors = _refused(api, staff_user, _signed(record))
    assert field in errors


@pytest.mark.django_db
def test_a_stale_signed_record_is_refused(api, staff_user, project, grant):
    _register(project)
    late = (timezone.now() - dt.timedelta(minutes=16)).isoformat()
    errors = _refused(api, staff_user, _signed(_record(project, occurred_at=late)))
    assert errors == {"occurred_at": ["A signed record must reach the ledger within 15 minutes of occurred_at."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("signatures", "field"),
    [
        ([{"kid": "k", "sig": "not base64!"}], "model_signatures[0].sig"),
        ([{"kid": "k", "sig": base64.b64encode(b"short").decode()}], "model_signatures[0].sig"),
        ([{"kid": "k", "sig": "A" * 88, "alg": "rsa"}], "model_signatures[0].alg"),
        ([{"kid": "k", "sig": "A" * 88, "extra": 1}], "model_signatures[0]"),
        ([{"sig": "A" * 88}], "model_signatures[0].kid"),
        ([], "model_signatures"),
    ],
)
def test_malformed_signatures_are_field_errors(api, staff_user, project, grant, signatures, field):
    _register(project)
    errors = _refused(api, staff_user, _record(project) | {"model_signatures": signatures})
    assert field in errors


@pytest.mark.django_db
def test_two_signatures_are_refused_by_the_api(api, staff_user, project, grant):
    _register(project)
    body = _signed(_record(project))
    body["model_signatures"] *= 2
    assert "model_signatures" in _refused(api, staff_user, body)


@pytest.mark.django_db
def test_a_signed_record_is_recorded_once(api, staff_user, project, grant, integrate):
    _register(project)
    body = _signed(_record(project))
    first = api.as_user(staff_user).post(URL + "entries", body, format="json")
    assert first.status_code in (201, 202)
    entry_id = first.json()["entry_id"]
    replay = _refused(api, staff_user, body, status=409)  # while it may still be queued
    assert entry_id in json.dumps(replay)
    integrate()
    replay = _refused(api, staff_user, body, status=409)  # and once it is in the log
    assert entry_id in json.dumps(replay)
    # The same content signed at another instant is another record.
    again = _signed(_record(project, occurred_at=(timezone.now() + dt.timedelta(seconds=1)).isoformat()))
    assert api.as_user(staff_user).post(URL + "entries", again, format="json").status_code in (201, 202)


@pytest.mark.django_db
def test_the_service_refuses_fields_that_differ_from_the_signed_record(staff_user, project, grant):
    _register(project)
    record = _signed(_record(project))
    before = _stored()
    with pytest.raises(ValidationFailed) as exc:
        ledger_entry_append(
            actor=staff_user,
            project=project,
            entry_type="decision",
            performer=record["actor"],
            action={**record["action"], "description": "something else"},
            context=record["context"],
            accountability=record["accountability"],
            signed_record=record,
        )
    assert exc.value.errors == {"action": ["Differs from the signed record."]}
    assert _stored() == before


def _record_command(project, path) -> None:
    call_command(
        "ledger_record",
        "--user",
        "staff",
        "--project-id",
        project.key,
        "--entry",
        str(path),
        stdout=StringIO(),
        stderr=StringIO(),
    )


@pytest.mark.django_db
def test_ledger_record_takes_a_signed_record(project, staff_user, grant, tmp_path):
    _register(project)
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(_signed(_record(project))))
    out = StringIO()
    call_command(
        "ledger_record", "--user", "staff", "--project-id", project.key, "--entry", str(path), "--json", stdout=out
    )
    entry_id = json.loads(out.getvalue())["entry_id"]
    stored = LedgerEntry.objects.filter(entry_id=entry_id).first() or PendingEntry.objects.get(entry_id=entry_id)
    assert stored.document["integrity"]["signatures"][0]["kid"] == signing.key_id(
        _private().public_key().public_bytes_raw()
    )
    tampered = json.loads(path.read_text())
    tampered["action"]["rationale"] = "changed"
    path.write_text(json.dumps(tampered))
    before = _stored()
    with pytest.raises(CommandError) as exc:
        _record_command(project, path)
    assert exc.value.returncode == 2
    assert "Does not verify" in str(exc.value)
    # The file names its project, which must be the one it is recorded in.
    for record, needle in [
        (_signed(_record(project) | {"project": "proj-999"}), "project"),
        (_signed({k: v for k, v in _record(project).items() if k != "project"}), "project"),
    ]:
        path.write_text(json.dumps(record))
        with pytest.raises(CommandError) as exc:
            _record_command(project, path)
        assert exc.value.returncode == 2
        assert needle in str(exc.value)
    assert _stored() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_a_signed_record_store_one_entry():
    """Eight threads submit the same signed record at once while the integrator runs: the advisory
    lock on the digest makes each copy wait for the one before it and then see it, queued or moved."""
    import threading

    from django.db import close_old_connections, connections

    from accountability.actors import SystemActor
    from accountability.exceptions import Conflict
    from accountability.ledger.services.grants import scope_grant_create
    from accountability.ledger.store import integrate_batch
    from accountability.models import Project

    project = Project.objects.create(key="proj-123", name="Concurrency", organization="Test")
    scope_grant_create(
        actor=SystemActor("cli:test"), project=project, model_id="claude-opus", action_types=["eligibility.*"]
    )
    _register(project)
    record = _signed(_record(project))
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def submit() -> None:
        close_old_connections()
        try:
            start.wait()
            ledger_entry_append(
                actor=SystemActor("cli:test"),
                project=project,
                entry_type=record["entry_type"],
                performer=record["actor"],
                action=record["action"],
                context=record["context"],
                accountability=record["accountability"],
                signed_record=record,
            )
            outcomes.append("stored")
        except Conflict:
            outcomes.append("replay")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    integrate_batch(100)  # moves whatever is queued while the others wait or check
    for t in threads:
        t.join()
    integrate_batch(100)
    assert sorted(outcomes) == ["replay"] * 7 + ["stored"]
    assert LedgerEntry.objects.filter(actor_ref="model:claude-opus").count() == 1
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_model_with_a_live_key_must_sign_its_records(api, staff_user, project, other_project, grant):
    unsigned = _record(project)
    assert api.as_user(staff_user).post(URL + "entries", unsigned, format="json").status_code in (201, 202)
    key = _register(project)
    errors = _refused(api, staff_user, _record(project))
    assert errors == {
        "model_signatures": [
            f"Required: claude-opus has a registered key in {project.key}, so its records there are signed "
            "(python -m accountability.ledger.offline sign-record)."
        ]
    }
    # Another model in the project, and the same model's key in another project, change nothing here.
    other = _record(project, actor={**MODEL, "model_id": "gpt-x"}, action={**DECISION["action"], "type": "code.review"})
    assert api.as_user(staff_user).post(URL + "entries", other, format="json").status_code in (201, 202)
    key.revoked_at = timezone.now()
    key.save()
    _register(other_project, seed=bytes(32))
    assert api.as_user(staff_user).post(URL + "entries", _record(project), format="json").status_code in (201, 202)


@pytest.mark.django_db
def test_end_to_end_keygen_register_sign_append_and_verify_offline(
    api,
    staff_user,
    superuser,
    project,
    grant,
    integrate,
    crypto_only,  # noqa: F811
    tmp_path,
):
    """The whole path through the interfaces users touch: the model's key pair from the offline tool,
    registered through the API, a record signed by the offline tool, posted, integrated, exported and
    verified by the standalone verifier and by ledger_verify, each with --model-signatures."""
    from accountability.ledger.services.export import ledger_export

    from .test_offline import run_offline

    pair = json.loads(run_offline(crypto_only, "model-keygen").stdout)
    created = api.as_user(superuser).post(
        URL + "model-keys",
        {"project": project.key, "model_id": "claude-opus", "public_key": pair["public_key"], "reason": "pilot"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["kid"] == pair["kid"]
    (tmp_path / "model.key").write_text(pair["private_key"])
    (tmp_path / "record.json").write_text(json.dumps(_record(project)))
    signed = run_offline(
        crypto_only,
        "sign-record",
        str(tmp_path / "record.json"),
        "--key-file",
        str(tmp_path / "model.key"),
        "--origin",
        keys.origin(),
    )
    assert signed.returncode == 0, signed.stderr
    posted = api.as_user(staff_user).post(URL + "entries", json.loads(signed.stdout), format="json")
    assert posted.status_code in (201, 202), posted.json()
    integrate()
    out = StringIO()
    call_command("ledger_verify", "--model-signatures", "--json", stdout=out, stderr=StringIO())
    report = json.loads(out.getvalue())
    assert report["ok"] is True
    assert report["model_signatures_checked"] == 1
    ledger_export(actor=superuser, directory=tmp_path / "export")
    vkey = keys.signers()[0].verifier.vkey
    done = run_offline(crypto_only, "verify", str(tmp_path / "export"), "--vkey", vkey, "--model-signatures")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 model signatures checked" in done.stdout
