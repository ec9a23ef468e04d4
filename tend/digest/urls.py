from django.urls import path

from tend.digest import views

app_name = "digest"

urlpatterns = [
    path("preview/", views.preview, name="preview"),
    path("settings/", views.settings_page, name="settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe_link, name="unsubscribe"),
]
