from django.urls import path

from tend.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.subscription_list, name="list"),
    path("<int:subscription_id>/", views.subscription_detail, name="detail"),
    path("<int:subscription_id>/edit/", views.subscription_edit, name="edit"),
    path("<int:subscription_id>/status/", views.subscription_status, name="status"),
    path("<int:subscription_id>/delete/", views.subscription_delete, name="delete"),
    path("<int:subscription_id>/secret/", views.subscription_secret, name="secret"),
    path("<int:subscription_id>/test/", views.subscription_test, name="test"),
    path(
        "<int:subscription_id>/deliveries/<int:delivery_id>/",
        views.delivery_detail,
        name="delivery",
    ),
    path(
        "<int:subscription_id>/deliveries/<int:delivery_id>/redeliver/",
        views.delivery_redeliver,
        name="redeliver",
    ),
]
