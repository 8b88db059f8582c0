"""Staff sign-in, mounted at /admin/ before Wagtail's URLs (see accounts.admin_views)."""

from django.urls import path

from . import admin_views

urlpatterns = [
    path("login/", admin_views.AdminLoginView.as_view(), name="accounts_admin_login"),
    path("2fa/", admin_views.verify, name="accounts_totp_verify"),
    path("2fa/enrol/", admin_views.enrol, name="accounts_totp_enrol"),
    path("2fa/enrol/<str:token>/", admin_views.enrol_link, name="accounts_totp_enrol_link"),
]
