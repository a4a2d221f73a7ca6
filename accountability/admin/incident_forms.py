"""Small forms of the incident admin's action buttons (each feeds one service call)."""

from __future__ import annotations

from django import forms

from accountability.models import CorrectiveAction, Incident, IncidentStakeholderNotice
from accountability.services.incidents import LINKABLE

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class NoteForm(forms.Form):
    note = forms.CharField(required=False, widget=TEXTAREA)


class RequiredNoteForm(forms.Form):
    note = forms.CharField(widget=TEXTAREA, help_text="How was the harm contained?")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=TEXTAREA)


class TextForm(forms.Form):
    text = forms.CharField(widget=TEXTAREA)


class ResolveForm(forms.Form):
    root_cause = forms.CharField(widget=TEXTAREA)
    root_cause_tags = forms.MultipleChoiceField(
        choices=Incident.RootCause.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    lessons_learned = forms.CharField(required=False, widget=TEXTAREA)


class CloseForm(forms.Form):
    lessons_learned = forms.CharField(widget=TEXTAREA, required=False)


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=Incident.Severity.choices)
    reason = forms.CharField(widget=TEXTAREA)


class AssignForm(forms.Form):
    username = forms.CharField(help_text="A responder, governance staff member or the CAIO of the project.")


class LinkForm(forms.Form):
    record_type = forms.ChoiceField(choices=[(t, t.replace("_", " ")) for t in sorted(LINKABLE)])
    record_id = forms.CharField(max_length=100, help_text="e.g. APL-00001 or LED-01J…")
    note = forms.CharField(required=False, widget=TEXTAREA)


class CorrectiveActionForm(forms.Form):
    description = forms.CharField(widget=TEXTAREA)
    due_date = forms.DateField(help_text="YYYY-MM-DD")
    owner_username = forms.CharField(required=False, help_text="A member of the project who owns the action…")
    owner_name = forms.CharField(required=False, help_text="…or the name of an outside owner (e.g. the vendor).")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=CorrectiveAction.Status.choices)
    note = forms.CharField(required=False, widget=TEXTAREA)


class EUFlagForm(forms.Form):
    basis = forms.ChoiceField(choices=Incident.EUBasis.choices)
    aware_at = forms.DateTimeField(help_text="When the organisation became aware (the clock starts here).")
    note = forms.CharField(required=False, widget=TEXTAREA)


class EUNotifyForm(forms.Form):
    party = forms.ChoiceField(choices=[("provider", "Provider (Art. 26(5))"), ("authority", "Authority (Art. 73)")])
    notified_at = forms.DateTimeField()
    reference = forms.CharField(required=False, max_length=200)


class AckForm(forms.Form):
    """Choices of ``notice`` come through ``initial['_notices']`` (the admin passes the incident's notices)."""

    notice = forms.TypedChoiceField(coerce=int, choices=[])
    record_notice_only = forms.BooleanField(
        required=False, label="Only record that the party was informed (not an acknowledgement)"
    )
    channel = forms.ChoiceField(choices=IncidentStakeholderNotice.Channel.choices, required=False, initial="phone")
    acknowledged_by_name = forms.CharField(required=False, max_length=200)
    acknowledgement = forms.CharField(required=False, widget=TEXTAREA)

    def __init__(self, *args, initial=None, **kwargs):
        initial = dict(initial or {})
        choices = initial.pop("_notices", [])
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["notice"].choices = choices
