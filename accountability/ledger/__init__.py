"""The AI accountability ledger: a tamper-evident, append-only record of AI actions, decisions,
interactions, governance acts, violations and corrections (seed 002; design in ledger.md).

Writers call ``accountability.ledger.append.record_governance`` (governance acts) or ``append_entry``
(any record type) inside their own transaction. ``offline/`` holds the cryptography and the
standalone verifier, importable without Django; this module imports nothing so that it stays so.
"""
