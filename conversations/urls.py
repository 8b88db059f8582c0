from django.urls import path

from . import views

app_name = "conversations"
ANSWERS = "espace-association/<int:org_id>/reponses-types"

urlpatterns = [
    path("espace/candidatures/<int:pk>/messages/", views.volunteer_thread, name="volunteer_thread"),
    path(
        "espace-association/<int:org_id>/missions/<int:mission_id>/candidatures/<int:pk>/messages/",
        views.association_thread,
        name="association_thread",
    ),
    path(f"{ANSWERS}/", views.saved_answers, name="saved_answers"),
    path(f"{ANSWERS}/<int:pk>/", views.saved_answers, name="saved_answer"),
    path(f"{ANSWERS}/<int:pk>/supprimer/", views.delete_saved_answer, name="delete_saved_answer"),
]
