"""The governance domain: registry, workflows, incidents, ledger."""
