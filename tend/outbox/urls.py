from django.urls import path

from tend.outbox import views

app_name = "outbox"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("test/", views.test_message, name="test"),
    path("<int:message_id>/", views.message_detail, name="detail"),
    path("<int:message_id>/retry/", views.message_retry, name="retry"),
]
