"""Anymail's Brevo backend, taught to send different contents in one batch call.

Brevo's `messageVersions` may carry their own subject, htmlContent and textContent; Anymail
builds versions with recipients, params and headers only. We render each email ourselves
(localized Django templates, tenant links), so each version carries its own contents.
"""

from anymail.backends.brevo import BrevoPayload
from anymail.backends.brevo import EmailBackend as AnymailBrevoBackend


class PortalBrevoPayload(BrevoPayload):
    def serialize_data(self):
        versions = getattr(self.message, "portal_versions", None)
        if not versions or not self.is_batch():
            return super().serialize_data()
        super().serialize_data()  # builds self.data["messageVersions"] from the recipients
        # One version per `to` address, in order (Anymail bursts `to` the same way).
        for version, contents in zip(self.data["messageVersions"], versions, strict=True):
            version.update(contents)
        return self.serialize_json(self.data)


class EmailBackend(AnymailBrevoBackend):
    supports_versions = True

    def build_message_payload(self, message, defaults):
        return PortalBrevoPayload(message, defaults, self)
