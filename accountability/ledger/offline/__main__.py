"""Standalone verifier: ``python -m accountability.ledger.offline verify EXPORT_DIR --vkey VKEY``.

Needs only Python 3.11 and ``cryptography``. Exit status 0 when everything verifies, 1 when the
ledger fails verification (the first bad entry and the reason are printed), 2 on bad usage.
``model-keygen`` and ``sign-record`` are the model's side of model signatures (``signing.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import merkle, signing
from .export_reader import ExportError, load_keys, verify_export
from .formats import leaf_hash_of
from .note import NoteError, Signer, Verifier, open_checkpoint, parse_proof


def _verifiers(args, export_dir: Path | None) -> list[Verifier]:
    if args.vkey:
        return [Verifier.parse(v) for v in args.vkey]
    if export_dir is not None:
        print("warning: no --vkey given; trusting the keys shipped inside the export", file=sys.stderr)
        return load_keys(export_dir)
    raise SystemExit("error: give the log's public key with --vkey")


def cmd_verify(args) -> int:
    """Verify an export directory; exit 1 names the first bad entry."""
    root = Path(args.directory)
    trusted = [Path(p).read_text() for p in args.trusted_checkpoint]

    def progress(done: int, total: int) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{done}/{total} entries", end="", file=sys.stderr)

    try:
        report = verify_export(
            root,
            _verifiers(args, root),
            trusted_checkpoints=trusted,
            progress=progress,
            model_signatures=args.model_signatures,
        )
    except (ExportError, NoteError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        status = "OK" if report.ok else "FAILED"
        print(
            f"{status}: {report.checked} entries of {report.origin}, {report.checkpoints_verified} checkpoints, "
            f"{report.tiles_verified} tiles; {report.purged} purged and {report.withheld} withheld payloads"
            + ("" if report.model_signatures is None else f"; {report.model_signatures} model signatures checked")
        )
        if not report.ok:
            print(f"first bad entry: {report.first_problem}")
            for problem in report.problems[1:10]:
                print(f"  also: {problem}")
    return 0 if report.ok else 1


def cmd_verify_proof(args) -> int:
    """Check a c2sp.org/tlog-proof bundle for a leaf: the checkpoint signature and the inclusion path."""
    try:
        index, path, note, _ = parse_proof(Path(args.proof).read_text())
        cp = open_checkpoint(note, _verifiers(args, None))
        leaf = Path(args.leaf).read_bytes()
    except (NoteError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    ok = merkle.verify_inclusion(index, cp.size, leaf_hash_of(leaf), path, cp.root)
    print(f"{'OK' if ok else 'FAILED'}: entry {index} {'is' if ok else 'is NOT'} in {cp.origin} at size {cp.size}")
    return 0 if ok else 1


def cmd_keygen(args) -> int:
    """Print a new checkpoint signing key, its public key, and a PII HMAC key, for the settings."""
    import base64
    import secrets

    signer = Signer.generate(args.origin)
    print(f"ICDEV_LEDGER_SIGNING_KEYS={signer.skey}")
    print(f"# public key (give it to auditors): {signer.verifier.vkey}")
    print(f"ICDEV_LEDGER_PII_KEYS={args.kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}")
    return 0


def cmd_model_keygen(args) -> int:
    """Print a new model signing key pair as JSON (the private key is the 32-byte Ed25519 seed)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    pair = {
        "private_key": signing.b64(key.private_bytes_raw()),
        "public_key": signing.b64(public),
        "kid": signing.key_id(public),
    }
    print(json.dumps(pair, indent=2))
    print(
        "warning: the private key stays with the model (a secret store it alone reads); register only the "
        "public key with the log, and never send the private key anywhere",
        file=sys.stderr,
    )
    return 0


def cmd_sign_record(args) -> int:
    """Sign a record (the JSON object sent to the entries API) with the model's key for a log's origin;
    exit 2 naming the problem when the record or the key cannot be used."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        seed = signing.decode_b64(Path(args.key_file).read_text().strip(), 32, "the private key")
        record = json.loads(Path(args.record).read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise signing.SignatureError("the record must be a JSON object")
        signed = signing.sign(Ed25519PrivateKey.from_private_bytes(seed), args.origin, record)
    except OSError as exc:
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except (signing.SignatureError, ValueError) as exc:  # json's errors are ValueErrors too
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(signed, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of the standalone verifier."""
    parser = argparse.ArgumentParser(prog="python -m accountability.ledger.offline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="verify an export directory")
    verify.add_argument("directory")
    verify.add_argument("--vkey", action="append", default=[], help="a trusted public key (repeatable)")
    verify.add_argument(
        "--trusted-checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint note you saved earlier; the log must be consistent with it",
    )
    verify.add_argument("--json", action="store_true")
    verify.add_argument(
        "--model-signatures",
        action="store_true",
        help="also check every entry's model signatures against model_keys.json (an Ed25519 check per signature)",
    )
    verify.set_defaults(func=cmd_verify)
    proof = sub.add_parser("verify-proof", help="verify a tlog-proof bundle for one leaf")
    proof.add_argument("proof")
    proof.add_argument("--leaf", required=True, help="file holding the leaf bytes")
    proof.add_argument("--vkey", action="append", default=[])
    proof.set_defaults(func=cmd_verify_proof)
    keygen = sub.add_parser("keygen", help="generate keys for a new log")
    keygen.add_argument("--origin", required=True)
    keygen.add_argument("--kid", default="k1")
    keygen.set_defaults(func=cmd_keygen)
    model_keygen = sub.add_parser("model-keygen", help="generate an AI model's signing key (JSON)")
    model_keygen.set_defaults(func=cmd_model_keygen)
    sign_record = sub.add_parser("sign-record", help="sign a record as the model, for one log")
    sign_record.add_argument("record", metavar="RECORD.json")
    sign_record.add_argument("--key-file", required=True, metavar="FILE", help="holds the base64 private key")
    sign_record.add_argument("--origin", required=True, help="the log's origin (its checkpoints' first line)")
    sign_record.add_argument("-o", "--output", metavar="OUT", help="write the signed record here, not to stdout")
    sign_record.set_defaults(func=cmd_sign_record)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
