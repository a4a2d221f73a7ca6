"""Routes of /api/v1/ai-accountability/ledger/."""

from django.urls import path

from . import model_keys, views

ENTRY = "entries/<str:entry_id>"
MODEL_KEY = "model-keys/<str:project>/<str:kid>"

urlpatterns = [
    path("checkpoint", views.CheckpointView.as_view(), name="ledger-checkpoint"),
    path("checkpoint/note", views.CheckpointNoteView.as_view(), name="ledger-checkpoint-note"),
    path("consistency", views.ConsistencyView.as_view(), name="ledger-consistency"),
    path("entries", views.EntryListView.as_view(), name="ledger-entries"),
    path(ENTRY, views.EntryDetailView.as_view(), name="ledger-entry"),
    path(f"{ENTRY}/explanation", views.EntryExplanationView.as_view(), name="ledger-entry-explanation"),
    path(f"{ENTRY}/responsibility", views.EntryResponsibilityView.as_view(), name="ledger-entry-responsibility"),
    path("violations", views.ViolationCreateView.as_view(), name="ledger-violations"),
    path("corrections", views.CorrectionCreateView.as_view(), name="ledger-corrections"),
    path("audit/by-model", views.ByModelView.as_view(), name="ledger-audit-by-model"),
    path("audit/task-chain", views.TaskChainView.as_view(), name="ledger-audit-task-chain"),
    path("audit/violations", views.ViolationsView.as_view(), name="ledger-audit-violations"),
    path("metrics", views.MetricsView.as_view(), name="ledger-metrics"),
    path("model-keys", model_keys.ModelKeyListView.as_view(), name="ledger-model-keys"),
    path(MODEL_KEY, model_keys.ModelKeyDetailView.as_view(), name="ledger-model-key"),
    path(f"{MODEL_KEY}/revoke", model_keys.ModelKeyRevokeView.as_view(), name="ledger-model-key-revoke"),
]
