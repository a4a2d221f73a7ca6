"""Ledger services: every write to the ledger that a person or job asks for, permission-checked and
atomic. Other capabilities record their own acts with ``accountability.ledger.append``."""
