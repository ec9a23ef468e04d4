from django.urls import path

from tend.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("data-model/", views.data_model, name="data_model"),
]
