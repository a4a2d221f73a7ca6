"""The AI accountability ledger: an append-only record of AI actions and governance decisions.

Writers call ``accountability.ledger.append.record_governance`` (governance acts) or
``accountability.ledger.append.append_entry`` (any record type) inside their own transaction.
"""
