from django.urls import path

from tend.accounts.views import data_model as views

app_name = "data_model"

urlpatterns = [
    path("", views.data_model, name="index"),
]
