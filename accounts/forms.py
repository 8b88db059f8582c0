import datetime
import re

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from missions import postcodes
from portal.forms import DsfrForm, autocomplete

from . import ratelimits
from .models import User

MIN_AGE, MAX_AGE = 16, 110
PHONE = re.compile(r"^\+?[0-9 .\-()]{6,20}$")


def clean_phone(value: str) -> str:
    value = value.strip()
    if value and not PHONE.match(value):
        raise forms.ValidationError(_("Enter a valid phone number."))
    return value


POSTAL_CODE = forms.TextInput(attrs=autocomplete("postal-code", inputmode="numeric"))
PHONE_INPUT = forms.TextInput(attrs=autocomplete("tel", type="tel"))


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class IsoDateField(forms.DateField):
    """A date input and JSON send YYYY-MM-DD: read it first, without trying each of the
    language's input formats with strptime (three attempts per signup in French); anything
    else goes through those formats as before. A YYYY-MM-DD that is no date (1990-02-30)
    matches none of them either: it is refused at once."""

    def to_python(self, value):
        if isinstance(value, str) and ISO_DATE.fullmatch(value := value.strip()):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
        return super().to_python(value)


class SignupForm(DsfrForm, forms.Form):
    """The spike path's only validation: pure Python, no query."""

    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs=autocomplete("email"))
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs=autocomplete("given-name")),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs=autocomplete("family-name")),
    )
    postal_code = forms.CharField(label=_("Postal code"), max_length=5, widget=POSTAL_CODE)
    birth_date = IsoDateField(
        label=_("Birth date"), widget=forms.DateInput(attrs=autocomplete("bday", type="date"))
    )
    phone = forms.CharField(
        label=_("Phone (optional)"), max_length=20, required=False, widget=PHONE_INPUT
    )
    consent = forms.BooleanField(
        label=_("I accept the terms of use and the processing of my personal data."),
        error_messages={"required": _("Consent is required to create an account.")},
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_postal_code(self):
        return postcodes.clean(self.cleaned_data["postal_code"])  # required by the field

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
        if value > today or age > MAX_AGE:
            raise forms.ValidationError(_("Enter a valid birth date."))
        if age < MIN_AGE:
            raise forms.ValidationError(
                _("You must be at least %(age)d years old to sign up.") % {"age": MIN_AGE}
            )
        return value

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])

    @classmethod
    def from_json(cls, payload: dict) -> "SignupForm":
        """Accept JSON types (true, "1990-05-01") as a browser form would send them: text as
        is, numbers as their text (a postal code sent as 75011), true only for consent;
        anything else is absent, so the field says what it expects."""
        data = {
            k: v if isinstance(v, str) else str(v)
            for k, v in payload.items()
            if isinstance(v, str) or (isinstance(v, int | float) and not isinstance(v, bool))
        }
        if payload.get("consent") is True:
            data["consent"] = "on"
        else:
            data.pop("consent", None)
        if isinstance(payload.get("birth_date"), datetime.date):
            data["birth_date"] = payload["birth_date"].isoformat()
        return SignupJSON(data)


class SharedFields(dict):
    """Fields a form may share between its instances: a deep copy returns them as they are."""

    def __deepcopy__(self, memo):
        return self


class SignupJSON(SignupForm):
    """The API's signup form: the same fields and checks, never rendered, so its instances
    share the class's fields instead of deep-copying seven fields and their widgets per
    request (half of the form's cost on the spike path). Nothing in cleaning writes to a
    field; rendering would (errors on widgets), which is why the page's form copies them."""


SignupJSON.base_fields = SharedFields(SignupForm.base_fields)


class EmailForm(DsfrForm, forms.Form):
    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs=autocomplete("email"))
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


AVAILABILITY = [
    ("weekday_mornings", _("Weekday mornings")),
    ("weekday_afternoons", _("Weekday afternoons")),
    ("weekday_evenings", _("Weekday evenings")),
    ("weekends", _("Weekends")),
    ("remote", _("Remotely")),
]
INTERESTS = [
    ("food_aid", _("Food aid")),
    ("elderly", _("Elderly people")),
    ("children", _("Children and education")),
    ("health", _("Health")),
    ("environment", _("Environment")),
    ("culture_sport", _("Culture and sport")),
    ("emergency", _("Emergency and crisis")),
]


class ProfileForm(DsfrForm, forms.ModelForm):
    availability = forms.MultipleChoiceField(
        label=_("Availability"),
        choices=AVAILABILITY,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    interests = forms.MultipleChoiceField(
        label=_("Domains of interest"),
        choices=INTERESTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "postal_code", "phone", "availability", "interests"]
        widgets = {
            "first_name": forms.TextInput(attrs=autocomplete("given-name")),
            "last_name": forms.TextInput(attrs=autocomplete("family-name")),
            "postal_code": POSTAL_CODE,
            "phone": PHONE_INPUT,
        }

    def clean_postal_code(self):
        return postcodes.clean(self.cleaned_data["postal_code"])

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])


class ThrottledLoginMixin:
    """Password sign-in throttled per IP and per account (accounts.ratelimits).

    Refused before the password is checked (no hashing spent on a throttled attempt), with a
    form error; the view answers 429 (`rate_limited` is set). Only wrong passwords count
    against the account.
    """

    rate_limited = None

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and self.request is not None:
            if ratelimits.refused(self, ratelimits.check_password_login(self.request, username)):
                return self.cleaned_data
        try:
            return super().clean()
        except forms.ValidationError as error:
            if self.request is not None and error.code == "invalid_login":
                ratelimits.password_login_failed(self.request, username)
            raise


class LoginForm(DsfrForm, ThrottledLoginMixin, auth_forms.AuthenticationForm):
    """The public password sign-in, throttled."""


class PasswordChangeForm(DsfrForm, auth_forms.PasswordChangeForm):
    """Django's, drawn by the design system (autocomplete: current- and new-password)."""


class SetPasswordForm(DsfrForm, auth_forms.SetPasswordForm):
    """The first password of an account made by the email-link signup."""


class DeleteAccountForm(DsfrForm, forms.Form):
    """Typing DELETE is the confirmation; anything else is refused."""

    confirm = forms.CharField(
        label=_("Type DELETE to confirm"),
        error_messages={"required": _("Type DELETE to confirm.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_confirm(self):
        if self.cleaned_data["confirm"] != "DELETE":
            raise forms.ValidationError(_("Type DELETE to confirm."))
        return self.cleaned_data["confirm"]


class OTPCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
