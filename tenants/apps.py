from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Portails"

    def ready(self):
        from . import signals  # noqa: F401
