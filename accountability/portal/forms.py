"""Portal forms for appellants, reviewers and board members; they only collect input for the services."""

from __future__ import annotations

from django import forms

from accountability.exceptions import AccountabilityError, ValidationFailed
from accountability.models import EthicsReviewVersion, RubricScore
from accountability.services import appeals as appeal_svc


def show_error(form: forms.Form, exc: AccountabilityError) -> None:
    """Put a domain error on the form, on its field when the form has one."""
    if isinstance(exc, ValidationFailed):
        for field, messages in exc.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, exc.message)


class AppealForm(forms.Form):
    project = forms.ChoiceField(help_text="The organisation whose AI decision you contest.")
    decision_trace_id = forms.CharField(
        label="Decision reference (trace id)",
        max_length=64,
        help_text="The 32-character reference printed on the decision notice.",
    )
    reason = forms.CharField(widget=forms.Textarea, help_text="Why the decision is wrong, in your own words.")

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [(p.key, f"{p.name} ({p.key})") for p in projects]


class InformationForm(forms.Form):
    body = forms.CharField(label="Information", widget=forms.Textarea)


class WithdrawForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, required=False)
    confirm = forms.BooleanField(label="I withdraw this appeal")


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=[(o.value, o.label) for o in appeal_svc.DECISION_OUTCOMES])
    resolution = forms.CharField(widget=forms.Textarea, help_text="The decision and its reasons, for the appellant.")


class EscalateForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, help_text="Why the CAIO or the delegated official must decide.")


class AssignForm(forms.Form):
    reviewer = forms.ChoiceField()

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(u.pk): u for u in candidates}
        self.fields["reviewer"].choices = [
            (pk, u.get_full_name() or u.get_username()) for pk, u in self.candidates.items()
        ]

    def clean_reviewer(self):
        return self.candidates[self.cleaned_data["reviewer"]]


class ScoreForm(forms.Form):
    """One integer field per rubric criterion, plus the conflict-of-interest declaration."""

    conflict_of_interest = forms.ChoiceField(choices=RubricScore.Conflict.choices, widget=forms.RadioSelect)
    conflict_details = forms.CharField(
        widget=forms.Textarea, required=False, help_text="With a declared conflict you recuse: describe it."
    )
    comments = forms.CharField(widget=forms.Textarea, required=False)

    def __init__(self, *args, rubric: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = rubric["criteria"]
        for criterion in self.criteria:
            scale = criterion.get("scale") or rubric["scale"]
            self.fields[f"score_{criterion['id']}"] = forms.IntegerField(
                label=criterion["label"],
                required=False,
                help_text=f"{scale['min']}–{scale['max']}, weight {criterion['weight']}"
                + (f"; below {criterion['veto_below']} vetoes approval" if "veto_below" in criterion else ""),
            )

    def scores(self) -> dict:
        return {
            c["id"]: self.cleaned_data[f"score_{c['id']}"]
            for c in self.criteria
            if self.cleaned_data.get(f"score_{c['id']}") is not None
        }


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=EthicsReviewVersion.Outcome.choices)
    findings = forms.CharField(widget=forms.Textarea)
    recommendations = forms.CharField(widget=forms.Textarea, required=False)
    conditions = forms.CharField(widget=forms.Textarea, required=False)


class ReviseForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea, help_text="What changed in this version.")
    material_url = forms.URLField(required=False, assume_scheme="https")
