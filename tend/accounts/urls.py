from django.urls import path

from tend.accounts.views import accounts as views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
]
