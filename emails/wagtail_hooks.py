from wagtail import hooks

from .views import OutboxViewSet, SuppressedAddressViewSet


@hooks.register("register_admin_viewset")
def register_outbox():
    return [OutboxViewSet(), SuppressedAddressViewSet()]
