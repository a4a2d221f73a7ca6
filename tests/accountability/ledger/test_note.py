"""C2SP signed notes, checkpoints and tlog-proof bundles (Ed25519)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from accountability.ledger.offline import note as notes

ORIGIN = "example.gov/ai-ledger/v1"


@pytest.fixture(scope="module")
def signer():
    return notes.Signer.generate(ORIGIN)


def test_keys_whose_base64_contains_plus_signs_parse():
    """Go's note package splits a vkey at the first two '+' only; so must we."""
    for _ in range(50):
        s = notes.Signer.generate(ORIGIN)
        assert notes.Verifier.parse(s.verifier.vkey) == s.verifier
        assert notes.Signer.parse(s.skey) == s


def test_key_ids_and_encodings_follow_the_signed_note_spec(signer):
    v = signer.verifier
    assert v.id == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + v.public_key).digest()[:4]
    name, hex_id, key = v.vkey.split("+", 2)
    assert (name, hex_id) == (ORIGIN, v.id.hex())
    assert base64.b64decode(key)[0] == 1
    assert base64.b64decode(key)[1:] == v.public_key
    assert notes.Verifier.parse(v.vkey) == v
    assert notes.Signer.parse(signer.skey) == signer
    assert signer.skey.startswith(f"PRIVATE+KEY+{ORIGIN}+{v.id.hex()}+")


def test_a_checkpoint_round_trips_and_verifies(signer):
    cp = notes.Checkpoint(ORIGIN, 42, b"\x07" * 32)
    signed = notes.sign_note(cp.text, [signer])
    root = base64.b64encode(b"\x07" * 32).decode()
    assert signed.startswith(f"{ORIGIN}\n42\n{root}\n\n\u2014 {ORIGIN} ")
    assert notes.open_checkpoint(signed, [signer.verifier], ORIGIN) == cp


def test_unknown_keys_are_ignored_but_a_bad_known_signature_rejects(signer):
    other = notes.Signer.generate("witness.example/w1")
    cosigned = notes.sign_note(notes.Checkpoint(ORIGIN, 1, b"\x01" * 32).text, [signer, other])
    assert notes.open_note(cosigned, [signer.verifier])[1] == [signer.verifier]
    with pytest.raises(notes.NoteError, match="no trusted key"):
        notes.open_note(cosigned, [notes.Signer.generate(ORIGIN).verifier])
    text, sigs = notes.split_note(cosigned)
    tampered = text.replace("\n1\n", "\n2\n") + "\n" + "".join(s.line + "\n" for s in sigs)
    with pytest.raises(notes.NoteError, match="does not verify"):
        notes.open_note(tampered, [signer.verifier])


@pytest.mark.parametrize(
    "bad",
    [
        "no blank line\n\u2014 x AAAA\n",
        "text\n\nnot a signature line\n",
        "text\n\n\u2014 name !!!notbase64\n",
        "te\x01xt\n\n\u2014 name AAAAAAA=\n",
    ],
)
def test_malformed_notes_are_rejected(signer, bad):
    with pytest.raises(notes.NoteError):
        notes.open_note(bad, [signer.verifier])


def test_checkpoints_for_another_origin_are_rejected(signer):
    signed = notes.sign_note(notes.Checkpoint("other.example/log", 3, b"\x00" * 32).text, [signer])
    with pytest.raises(notes.NoteError, match="is for"):
        notes.open_checkpoint(signed, [signer.verifier], ORIGIN)


def test_tlog_proof_bundles_round_trip(signer):
    cp = notes.sign_note(notes.Checkpoint(ORIGIN, 9, b"\x02" * 32).text, [signer])
    path = [bytes([i]) * 32 for i in range(4)]
    bundle = notes.format_proof(5, path, cp)
    assert bundle.startswith("c2sp.org/tlog-proof@v1\nindex 5\n")
    assert notes.parse_proof(bundle) == (5, path, cp, None)
    with pytest.raises(notes.NoteError):
        notes.parse_proof(bundle.replace("index 5", "index 05"))


@pytest.mark.parametrize("bad", ["a+b", "PRIVATE+KEY+x+00000000+AAAA", "name+zz+AQ=="])
def test_malformed_keys_are_rejected(bad):
    with pytest.raises(notes.NoteError):
        (notes.Signer.parse if bad.startswith("PRIVATE") else notes.Verifier.parse)(bad)
