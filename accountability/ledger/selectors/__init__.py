"""Reads of the ledger: entries, proofs, audit queries, explanations and metrics, scoped to the
projects whose history the actor may read."""

from .audit import actions_by_model, decision_chain, responsibility_chain, violations_between
from .entries import (
    actor_refs,
    appended_count,
    checkpoint_at,
    checkpoint_latest,
    consistency,
    corrections_of,
    decision_entry_for_trace,
    effective_document,
    entry_documents,
    entry_get,
    entry_inclusion,
    entry_list,
    entry_search_q,
    pending_list,
    people_named,
)
from .explain import entry_explanation
from .metrics import chain_integrity, ledger_metrics

__all__ = [
    "actions_by_model",
    "actor_refs",
    "appended_count",
    "chain_integrity",
    "checkpoint_at",
    "checkpoint_latest",
    "consistency",
    "corrections_of",
    "decision_chain",
    "decision_entry_for_trace",
    "effective_document",
    "entry_documents",
    "entry_explanation",
    "entry_get",
    "entry_inclusion",
    "entry_list",
    "entry_search_q",
    "ledger_metrics",
    "pending_list",
    "people_named",
    "responsibility_chain",
    "violations_between",
]
