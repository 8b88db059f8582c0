from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.forms import DsfrForm

from .models import SavedAnswer
from .services import clean_body


class MessageForm(DsfrForm, forms.Form):
    # The length is checked by clean_body, which says it in words: no maxlength attribute,
    # so a pasted text too long is refused with a reason instead of cut silently.
    body = forms.CharField(
        label=_("Your message"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write a message.")},
    )

    def clean_body(self):
        return clean_body(self.cleaned_data["body"])


class SavedAnswerForm(DsfrForm, forms.ModelForm):
    class Meta:
        model = SavedAnswer
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def clean_body(self):
        try:
            return clean_body(self.cleaned_data["body"])
        except ValidationError as error:
            raise ValidationError(error.messages) from error
