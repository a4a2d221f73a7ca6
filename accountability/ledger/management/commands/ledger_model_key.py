"""ledger_model_key: register, revoke and list the Ed25519 public keys AI models sign ledger records with."""

from __future__ import annotations

import argparse
import os

from accountability.selectors import registry as reg

from ...api.model_keys import ModelKeySerializer
from ...selectors.model_keys import model_key_get, model_keys_list
from ...services import model_keys as svc
from ._ledger import LedgerCommand

COLUMNS = ["project", "model", "kid", "state", "registered", "by", "revoked"]


def _row(key) -> list:
    return [
        key.project.key,
        key.model_id,
        key.kid,
        "active" if key.revoked_at is None else "revoked",
        key.registered_at.isoformat(timespec="seconds"),
        key.registered_by.get_username() if key.registered_by else "",
        key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
    ]


class Command(LedgerCommand):
    help = (
        "AI model signing keys (Ed25519 public keys, standard base64). Examples:\n"
        "  ledger_model_key register --project proj-101 --model claude-opus --public-key BASE64 --user caio\n"
        "      [--reason 'pilot agent']\n"
        "  ledger_model_key revoke --project proj-101 --kid 0123456789abcdef --reason 'key leaked' --user caio\n"
        "  ledger_model_key list [--project proj-101] [--model claude-opus] [--active|--revoked] --user auditor\n"
        "Add --json for JSON output. Registering and revoking need the CAIO or governance staff role; listing\n"
        "shows the keys of the projects whose ledger you may read (history.view)."
    )
    actions = ["register", "revoke", "list"]

    def add_arguments(self, parser):
        # Each action is a subcommand with its own options; --json and --user are accepted after it.
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("--json", action="store_true", help="Print JSON only (errors go to stderr).")
        common.add_argument(
            "--user",
            default=os.environ.get("ICDEV_USER", ""),
            help="Username acting (default: $ICDEV_USER). Permissions are those of this user.",
        )
        sub = parser.add_subparsers(dest="action", required=True, metavar="{register,revoke,list}")
        register = sub.add_parser("register", parents=[common], help="Register a model's public key in a project.")
        register.add_argument("--project", required=True, help="Project key.")
        register.add_argument("--model", required=True, help="The model id, as entries name it.")
        register.add_argument("--public-key", required=True, help="Raw Ed25519 public key, standard base64.")
        register.add_argument("--reason", default="")
        revoke = sub.add_parser("revoke", parents=[common], help="Revoke a key; it is never registered again.")
        revoke.add_argument("--project", required=True, help="Project key.")
        revoke.add_argument("--kid", required=True, help="The key id (16 hex digits).")
        revoke.add_argument("--reason", required=True, help="Why the key is revoked.")
        listing = sub.add_parser("list", parents=[common], help="Keys of the projects whose ledger you may read.")
        listing.add_argument("--project", default="", help="Limit to one project (key).")
        listing.add_argument("--model", default="", help="Limit to one model id.")
        state = listing.add_mutually_exclusive_group()
        state.add_argument("--active", action="store_true", help="Only keys not revoked.")
        state.add_argument("--revoked", action="store_true", help="Only revoked keys.")

    def handle(self, *args, **opts):
        opts[opts["action"]] = True  # ServiceCommand dispatches on one true action option
        super().handle(*args, **opts)

    def do_register(self, actor, opts):
        key = svc.model_key_register(
            actor=actor,
            project=reg.project_get(actor, opts["project"]),
            model_id=opts["model"],
            public_key=opts["public_key"],
            reason=opts["reason"],
        )
        return dict(ModelKeySerializer(key).data)

    def do_revoke(self, actor, opts):
        key = model_key_get(actor, opts["project"], opts["kid"])
        return dict(ModelKeySerializer(svc.model_key_revoke(actor=actor, key=key, reason=opts["reason"])).data)

    def do_list(self, actor, opts):
        active = True if opts["active"] else False if opts["revoked"] else None
        keys = list(
            model_keys_list(actor, project=opts["project"] or None, model_id=opts["model"] or None, active=active)
        )
        data = [dict(row) for row in ModelKeySerializer(keys, many=True).data]
        return data, self.table("Model keys", COLUMNS, [_row(k) for k in keys])
