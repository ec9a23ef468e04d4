from django.urls import path

from tend.web import jobs_views, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("settings/jobs/", jobs_views.job_list, name="jobs"),
    path("settings/jobs/<int:job_id>/retry/", jobs_views.job_retry, name="job_retry"),
]
