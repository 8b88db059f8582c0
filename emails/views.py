"""Admin views of the outbox (Wagtail viewsets): read-only, plus "retry now"."""

import django_filters  # noqa: I001  (installed by Wagtail)
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import ListingButton
from wagtail.models import Site

from .models import OutboundEmail, SuppressedAddress
from .dispatch import enqueue


class OutboxFilterSet(WagtailFilterSet):
    site = django_filters.ModelChoiceFilter(queryset=Site.objects.all(), label=gettext_lazy("site"))

    class Meta:
        model = OutboundEmail
        fields = ["status", "template", "site", "delivery_status"]


def retry(email: OutboundEmail) -> bool:
    """Make a failed or waiting email due now and hand it to a worker."""
    updated = OutboundEmail.objects.filter(
        pk=email.pk, status__in=[OutboundEmail.Status.FAILED, OutboundEmail.Status.PENDING]
    ).update(
        status=OutboundEmail.Status.PENDING,
        next_attempt_at=timezone.now(),
        claimed_until=None,
    )
    if updated:
        enqueue([email.pk])
    return bool(updated)


class OutboxIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.status in (OutboundEmail.Status.FAILED, OutboundEmail.Status.PENDING):
            buttons.append(
                ListingButton(
                    _("Retry now"),
                    url=reverse("outbox:retry", args=[instance.pk]),
                    icon_name="resubmit",
                    priority=5,
                )
            )
        return buttons


class OutboxViewSet(ModelViewSet):
    model = OutboundEmail
    icon = "mail"
    menu_label = gettext_lazy("Outbox")
    menu_order = 900
    add_to_settings_menu = True
    name = "outbox"
    index_view_class = OutboxIndexView
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = OutboxFilterSet
    search_fields = ["to_email", "idempotency_key"]
    list_display = [
        "to_email",
        "template",
        Column("site", label=gettext_lazy("site")),
        "status",
        "delivery_status",
        "attempts",
        Column("last_error", label=gettext_lazy("last error")),
        DateColumn("created_at", label=gettext_lazy("created at")),
        DateColumn("sent_at", label=gettext_lazy("sent at")),
    ]
    inspect_view_fields = [
        "to_email",
        "template",
        "language",
        "site",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "message_id",
        "sent_at",
        "delivery_status",
        "delivery_updated_at",
        "idempotency_key",
        "created_at",
    ]
    form_fields = ["status"]  # unused: no add or edit view is exposed

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(add_url_name=None, edit_url_name=None, **kwargs)

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(edit_url_name=None, **kwargs)

    def get_urlpatterns(self):
        keep = {"index", "index_results", "inspect", "delete"}
        patterns = [p for p in super().get_urlpatterns() if p.name in keep]
        return patterns + [path("retry/<int:pk>/", self.retry_view, name="retry")]

    def retry_view(self, request, pk):
        if not self.permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied
        email = get_object_or_404(OutboundEmail, pk=pk)
        if request.method == "POST":
            if retry(email):
                messages.success(
                    request, _("The email to %s will be sent again now.") % email.to_email
                )
            else:
                messages.warning(
                    request, _("This email is not waiting or failed: nothing to retry.")
                )
            return redirect(self.get_url_name("index"))
        return TemplateResponse(
            request,
            "emails/admin/confirm_retry.html",
            {"email": email, "index_url": reverse(self.get_url_name("index"))},
        )


class SuppressedAddressViewSet(ModelViewSet):
    model = SuppressedAddress
    icon = "warning"
    menu_label = gettext_lazy("Undeliverable addresses")
    menu_order = 901
    add_to_settings_menu = True
    name = "undeliverable"
    copy_view_enabled = False
    search_fields = ["email"]
    list_filter = ["reason"]
    list_display = ["email", "reason", DateColumn("created_at", label=gettext_lazy("since"))]
    form_fields = ["email", "reason"]
