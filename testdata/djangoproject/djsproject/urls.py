"""URLs of the djsession test project: a small JSON API over Django's sessions and auth."""
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.login_view),
    path("logout/", views.logout_view),
    path("whoami/", views.whoami),
    path("change-password/", views.change_password),
    path("session/", views.session_view),
]
