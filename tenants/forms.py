"""The portal settings form of the Wagtail admin."""

from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminModelForm


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
