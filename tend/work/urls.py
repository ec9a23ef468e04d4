"""The tasks pages, at ``/tasks/``."""

from django.urls import path

from tend.work.views import inbox, inline, task

app_name = "work"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("new/", task.task_new, name="new"),
    path("accounts/", task.account_options, name="account_options"),
    path("bulk/", inline.bulk, name="bulk"),
    path("<int:task_id>/", task.task_detail, name="detail"),
    path("<int:task_id>/edit/", task.task_edit, name="edit"),
    path("<int:task_id>/delete/", task.task_delete, name="delete"),
    path("<int:task_id>/comments/", task.task_comment, name="comment"),
    path("<int:task_id>/complete/", inline.complete, name="complete"),
    path("<int:task_id>/reopen/", inline.reopen, name="reopen"),
    path("<int:task_id>/cancel/", inline.cancel, name="cancel"),
    path("<int:task_id>/reassign/", inline.reassign, name="reassign"),
    path("<int:task_id>/reschedule/", inline.reschedule, name="reschedule"),
]
