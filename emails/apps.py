from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "emails"
    verbose_name = "E-mails"

    def ready(self):
        from . import tracking  # noqa: F401  (connects Anymail's tracking signal)
