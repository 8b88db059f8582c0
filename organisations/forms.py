from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from missions.models import Application, Mission, Slot
from missions.services import MISSION_FIELDS, allowed_sites, slot_label
from portal.forms import DsfrForm, autocomplete

from .models import Organisation

MAX_TEXT = 10_000


class OrganisationForm(DsfrForm, forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "type",
            "rna",
            "siret",
            "description",
            "address",
            "postal_code",
            "city",
            "contact_email",
            "contact_phone",
        ]
        widgets = {
            "name": forms.TextInput(attrs=autocomplete("organization")),
            "description": forms.Textarea(attrs={"rows": 4}),
            "address": forms.TextInput(attrs=autocomplete("street-address")),
            "postal_code": forms.TextInput(attrs=autocomplete("postal-code", inputmode="numeric")),
            "city": forms.TextInput(attrs=autocomplete("address-level2")),
            "contact_email": forms.EmailInput(attrs=autocomplete("email")),
            "contact_phone": forms.TextInput(attrs=autocomplete("tel", type="tel")),
        }

    def clean_description(self):
        value = self.cleaned_data["description"]
        if len(value) > MAX_TEXT:
            raise forms.ValidationError(_("At most %(n)d characters.") % {"n": MAX_TEXT})
        return value


class MissionForm(DsfrForm, forms.ModelForm):
    class Meta:
        model = Mission
        fields = list(MISSION_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "prerequisites": forms.Textarea(attrs={"rows": 3}),
            # A date input reads ISO dates only (a localised 29/11/2026 shows it empty).
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "sites": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sites"].required = False  # none chosen: the organisation's portal
        if organisation is not None:
            self.fields["sites"].queryset = allowed_sites(organisation)

    def clean_description(self):
        value = self.cleaned_data["description"]
        if len(value) > MAX_TEXT:
            raise forms.ValidationError(_("At most %(n)d characters.") % {"n": MAX_TEXT})
        return value

    def clean_start_date(self):
        value = self.cleaned_data["start_date"]
        changed = "start_date" in self.changed_data
        if value and changed and value < timezone.localdate():
            raise forms.ValidationError(_("The start date is in the past."))
        return value


class SlotForm(DsfrForm, forms.ModelForm):
    """One dated slot of a mission (its own places); Slot.clean checks the end."""

    class Meta:
        model = Slot
        fields = ["start", "end", "places"]
        widgets = {
            "start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }


class BaseSlotFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """A row naming a slot that is not this mission's (another mission's, or removed
        meanwhile): Django would quietly make it a new slot; the manager reloads instead."""
        super().clean()
        if any(form.instance.pk is None for form in self.initial_forms):
            raise forms.ValidationError(_("This slot is no longer there: reload the page."))


# The slots of the mission form: its own slots only, three empty rows to add more;
# missions.services.save_slots applies the rules.
SlotFormSet = forms.inlineformset_factory(
    Mission,
    Slot,
    form=SlotForm,
    formset=BaseSlotFormSet,
    extra=3,
    can_delete=True,
    max_num=100,
    validate_max=True,
)


class InvitationForm(DsfrForm, forms.Form):
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )


class ApplicantFilterForm(DsfrForm, forms.Form):
    """The applicants page's filters, drawn only: the page and its exports read the query
    string themselves (an unknown status filters nothing, the search is cut at 100)."""

    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", "—"), *Application.Status.choices]
    )
    slot = forms.ChoiceField(label=_("Slot"), required=False)

    def __init__(self, *args, mission=None, **kwargs):
        super().__init__(*args, **kwargs)
        slots = list(mission.slots.all()) if mission is not None else []
        if slots:
            self.fields["slot"].choices = [("", "—"), *((s.pk, slot_label(s)) for s in slots)]
        else:
            del self.fields["slot"]


class DecisionForm(DsfrForm, forms.Form):
    """A manager's action on applications; `cleaned_data["target"]` is the status it asks the
    workflow for (missions.services.act checks each application against it)."""

    ACTIONS = {
        "accept": (Application.Status.ACCEPTED, _("Accept")),
        "refuse": (Application.Status.REFUSED, _("Refuse")),
        "done": (Application.Status.DONE, _("Came")),
        "no_show": (Application.Status.NO_SHOW, _("Did not come")),
    }
    action = forms.ChoiceField(
        label=_("Action"), choices=[(name, label) for name, (_t, label) in ACTIONS.items()]
    )
    applications = forms.ModelMultipleChoiceField(queryset=None)
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", "")] + list(Application.RefusalReason.choices),
        required=False,
    )
    text = forms.CharField(
        label=_("Message to the volunteer (refusal)"), required=False, max_length=2000
    )

    def __init__(self, *args, mission=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].queryset = mission.applications.all()

    def clean(self):
        data = super().clean()
        if "action" in data:
            data["target"] = self.ACTIONS[data["action"]][0]
        return data
