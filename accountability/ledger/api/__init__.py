"""REST API of the ledger under /api/v1/ai-accountability/ledger/."""
