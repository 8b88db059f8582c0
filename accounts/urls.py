from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("inscription/", views.signup_page, name="signup"),
    path("compte/confirmer/<str:token>/", views.confirm, name="confirm"),
    path("compte/lien/<str:token>/", views.magic_link, name="magic_link"),
    path("compte/email/<str:token>/", views.confirm_email_change, name="confirm_email_change"),
    path("compte/connexion/", views.PasswordLoginView.as_view(), name="login"),
    path("compte/connexion/lien/", views.request_signin_link, name="signin_link"),
    path("compte/deconnexion/", views.sign_out, name="logout"),
    path("espace/", views.space, name="space"),
    path("espace/email/", views.change_email, name="change_email"),
    path("espace/mot-de-passe/", views.change_password, name="change_password"),
    path("espace/sessions/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("espace/supprimer/", views.delete_account, name="delete"),
    path("espace/export/", views.export, name="export"),
    path("espace/candidatures/", views.my_applications, name="applications"),
    path("espace/candidatures/<int:pk>/bilan/", views.attendance, name="attendance"),
    path("espace/favoris/", views.favourites, name="favourites"),
    path("espace/favoris/<int:mission_id>/", views.favourite, name="favourite"),
]
