"""PostgreSQL guard rails: ledger entries, tiles and checkpoints are append-only. The only UPDATE allowed
on an entry is the retention purge (payload and salt to NULL, redaction recorded) once it has expired.
A superuser can still disable triggers; the signed checkpoints that auditors keep catch that.
TRUNCATE is left to the database role's privileges (test databases are flushed with it): revoke it
from the application role in production."""

from django.db import migrations

GUARD_ENTRY = """
CREATE OR REPLACE FUNCTION ledger_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'ledger entries are append-only: seq % cannot be deleted', OLD.seq
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF (to_jsonb(NEW) - 'payload' - 'payload_salt' - 'redacted_at' - 'redacted_by')
       IS DISTINCT FROM (to_jsonb(OLD) - 'payload' - 'payload_salt' - 'redacted_at' - 'redacted_by')
     OR OLD.payload IS NULL OR NEW.payload IS NOT NULL OR NEW.payload_salt IS NOT NULL
     OR NEW.redacted_at IS NULL OR NEW.redacted_by = '' THEN
    RAISE EXCEPTION 'ledger entries are append-only: seq % may only have an expired payload purged', OLD.seq
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.expires_at IS NULL OR OLD.expires_at > now() THEN
    RAISE EXCEPTION 'retention: seq % is not expired (expires %), its payload cannot be purged', OLD.seq,
      coalesce(OLD.expires_at::text, 'never') USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_ledgerentry
  FOR EACH ROW EXECUTE FUNCTION ledger_entry_guard();

CREATE OR REPLACE FUNCTION ledger_immutable_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER ledger_tile_append_only BEFORE UPDATE OR DELETE ON ledger_ledgertile
  FOR EACH ROW EXECUTE FUNCTION ledger_immutable_guard();
CREATE TRIGGER ledger_checkpoint_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoint
  FOR EACH ROW EXECUTE FUNCTION ledger_immutable_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_ledgerentry;
DROP TRIGGER IF EXISTS ledger_tile_append_only ON ledger_ledgertile;
DROP TRIGGER IF EXISTS ledger_checkpoint_append_only ON ledger_checkpoint;
DROP FUNCTION IF EXISTS ledger_entry_guard();
DROP FUNCTION IF EXISTS ledger_immutable_guard();
"""


def _run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no parameters: the % in RAISE formats must reach PostgreSQL as is

    return apply


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(_run(GUARD_ENTRY), _run(DROP))]
