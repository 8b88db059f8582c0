from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes"

    def ready(self):
        from . import account_area  # noqa: F401  (connects the sign-in and sign-out receivers)
