"""C2SP signed notes with Ed25519 (signature type 0x01), tlog checkpoints and tlog-proof bundles.

Formats: c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-proof@v1. Keys use the Go
sumdb ``note`` encodings, so the same keys work with golang.org/x/mod/sumdb/note tooling:
``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`` and ``<name>+<hex id>+<base64(0x01 ‖ pubkey)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ALG_ED25519 = 0x01
EM_DASH = "\u2014"
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_SIGNATURES = 16


class NoteError(ValueError):
    """A note, key, checkpoint or proof is malformed or does not verify."""


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Strict standard base64 decoding; NoteError otherwise."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"not base64: {text[:60]!r}") from exc


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key names are non-empty and contain no spaces or '+': {name!r}")


def key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4], the signed-note key ID for Ed25519."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A trusted public key: its name, 4-byte id and Ed25519 key."""

    name: str
    id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Parse ``<name>+<hex id>+<base64(0x01 ‖ pubkey)>``."""
        parts = vkey.strip().split("+", 2)  # the base64 key may itself contain '+'
        if len(parts) != 3:
            raise NoteError("a verifier key looks like name+hexid+base64key")
        name, hex_id, key = parts
        _check_name(name)
        raw = unb64(key)
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("only Ed25519 (type 0x01) verifier keys are supported")
        try:
            kid = bytes.fromhex(hex_id)
        except ValueError as exc:
            raise NoteError("the key id is not hex") from exc
        if len(kid) != 4 or kid != key_id(name, raw[1:]):
            raise NoteError("the key id does not match the key")
        return cls(name, kid, raw[1:])

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.id.hex()}+{b64(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A signing key (secret): its name and Ed25519 seed."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(name, seed)

    @classmethod
    def parse(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signing key looks like PRIVATE+KEY+name+hexid+base64key")
        name, hex_id, key = parts[2:]
        _check_name(name)
        raw = unb64(key)
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("only Ed25519 (type 0x01) signing keys are supported")
        signer = cls(name, raw[1:])
        if hex_id.lower() != signer.verifier.id.hex():
            raise NoteError("the key id does not match the key")
        return signer

    @property
    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> Verifier:
        pub = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, key_id(self.name, pub), pub)

    @property
    def skey(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{b64(bytes([ALG_ED25519]) + self.seed)}"

    def signature_line(self, text: str) -> str:
        sig = self._private.sign(text.encode("utf-8"))
        return f"{EM_DASH} {self.name} {b64(self.verifier.id + sig)}\n"


def sign_note(text: str, signers: list[Signer]) -> str:
    """The signed note: text (ending in a newline), a blank line, one signature line per signer."""
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text ends with a newline and has no control characters")
    if not signers:
        raise NoteError("a note needs at least one signer")
    return text + "\n" + "".join(s.signature_line(text) for s in signers)


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    sig: bytes
    line: str


def split_note(note: str) -> tuple[str, list[Signature]]:
    """The note text and its signature lines (unverified)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("notes contain no control characters other than newline")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("a signed note is text, a blank line and signature lines")
    text, sig_block = note[: cut + 1], note[cut + 2 :]
    sigs = []
    for line in sig_block.splitlines():
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise NoteError(f"malformed signature line: {line[:60]!r}")
        name, _, encoded = line[len(prefix) :].rpartition(" ")
        raw = unb64(encoded)
        if not name or len(raw) < 5:
            raise NoteError(f"malformed signature line: {line[:60]!r}")
        sigs.append(Signature(name, raw[:4], raw[4:], line))
    if not sigs:
        raise NoteError("the note has no signatures")
    if len(sigs) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return text, sigs


def open_note(note: str, verifiers: list[Verifier]) -> tuple[str, list[Verifier]]:
    """Verify a note against trusted keys: signatures from unknown keys are ignored (that is how
    rotation and cosigning work), a bad signature from a known key rejects the note, and at least one
    known key must have signed. Returns the text and the keys that verified."""
    text, sigs = split_note(note)
    known = {(v.name, v.id): v for v in verifiers}
    good = []
    for s in sigs:
        v = known.get((s.name, s.id))
        if v is None:
            continue
        if not v.verify(text.encode("utf-8"), s.sig):
            raise NoteError(f"the signature by {s.name} does not verify")
        good.append(v)
    if not good:
        raise NoteError("no trusted key signed this note")
    return text, good


# --- checkpoints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    @property
    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\n"

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint body is origin, size and root, one per line")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("malformed checkpoint origin or size")
        raw = unb64(root)
        if len(raw) != 32:
            raise NoteError("a checkpoint root is 32 bytes")
        return cls(origin, int(size), raw)


def open_checkpoint(note: str, verifiers: list[Verifier], origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and return it (optionally insisting on the log's origin)."""
    text, _ = open_note(note, verifiers)
    cp = Checkpoint.parse_text(text)
    if origin is not None and cp.origin != origin:
        raise NoteError(f"the checkpoint is for {cp.origin!r}, not {origin!r}")
    return cp


# --- tlog-proof bundles ------------------------------------------------------------------------


def format_proof(index: int, path: list[bytes], checkpoint_note: str, extra: bytes | None = None) -> str:
    """A c2sp.org/tlog-proof@v1 bundle: index, inclusion path and the checkpoint verbatim."""
    lines = [PROOF_HEADER]
    if extra:
        lines.append(f"extra {b64(extra)}")
    lines.append(f"index {index}")
    lines.extend(b64(h) for h in path)
    return "\n".join(lines) + "\n\n" + checkpoint_note


def parse_proof(text: str) -> tuple[int, list[bytes], str, bytes | None]:
    """(index, path, checkpoint note, extra) of a tlog-proof bundle; nothing is verified here."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != PROOF_HEADER:
        raise NoteError("not a c2sp.org/tlog-proof@v1 bundle")
    pos, extra = 1, None
    if len(lines) > pos and lines[pos].startswith("extra "):
        extra = unb64(lines[pos][6:])
        pos += 1
    if len(lines) <= pos or not lines[pos].startswith("index "):
        raise NoteError("the proof has no index line")
    index_text = lines[pos][6:]
    if not index_text.isdigit() or (index_text != "0" and index_text.startswith("0")):
        raise NoteError("malformed index")
    path = [unb64(line) for line in lines[pos + 1 :]]
    if any(len(h) != 32 for h in path):
        raise NoteError("proof hashes are 32 bytes")
    return int(index_text), path, note, extra
