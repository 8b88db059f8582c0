"""The Wagtail admin's forms for portals: their settings, a new portal."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.models import Site


class PortalSettingsForm(WagtailAdminModelForm):
    """An editor who enters a new public domain asks for a move; a superuser makes it."""

    def clean(self):
        cleaned = super().clean()
        domain = cleaned.get("public_domain")
        changed = "public_domain" in self.changed_data
        if domain and self.instance.site_id:
            try:
                cleaned["public_domain"] = self.instance.domain_to_save(
                    domain, self.for_user, changed=changed
                )
            except ValidationError as exc:
                self.add_error("public_domain", exc)
        return cleaned


class NewPortalForm(forms.Form):
    """What `create_portal` needs; the hostname is checked there (PORTAL_DOMAINS, free)."""

    hostname = forms.CharField(
        label=_("Hostname"),
        max_length=255,
        help_text=_("The portal's public hostname, on a domain the operators allow."),
    )
    name = forms.CharField(label=_("Name"), max_length=255)
    copy_from = forms.ModelChoiceField(
        label=_("Copy the pages of"),
        queryset=Site.objects.order_by("site_name", "hostname"),
        required=False,
        help_text=_("Its whole page tree, in French and English. Empty: new home pages."),
    )
