from django.urls import path

from . import views

app_name = "organisations"
MISSION = "espace-association/<int:org_id>/missions/<int:mission_id>"
TEAM = "espace-association/<int:org_id>/equipe"

urlpatterns = [
    path("espace-association/", views.home, name="home"),
    path("espace-association/invitation/<str:token>/", views.accept_invitation, name="invitation"),
    path("espace-association/<int:org_id>/", views.dashboard, name="dashboard"),
    path("espace-association/<int:org_id>/soumettre/", views.submit_organisation, name="submit"),
    path("espace-association/<int:org_id>/equipe/", views.team, name="team"),
    path(f"{TEAM}/membres/<int:pk>/retirer/", views.remove_member, name="remove_member"),
    path(f"{TEAM}/membres/<int:pk>/confier/", views.hand_over, name="hand_over"),
    path(f"{TEAM}/invitations/<int:pk>/renvoyer/", views.resend_invitation, name="resend"),
    path(f"{TEAM}/invitations/<int:pk>/revoquer/", views.revoke_invitation, name="revoke"),
    path(
        "espace-association/<int:org_id>/missions/nouvelle/", views.edit_mission, name="new_mission"
    ),
    path(f"{MISSION}/", views.edit_mission, name="edit_mission"),
    path(f"{MISSION}/candidatures/", views.applicants, name="applicants"),
    path(f"{MISSION}/dupliquer/", views.duplicate_mission, name="duplicate_mission"),
    path(f"{MISSION}/candidatures.<str:fmt>", views.export_applicants, name="export"),
]
