from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tend.jobs.models import Job, JobStatus

URL = "/settings/jobs/"


def failed_job(workspace, kind="tests.fail", error="ValueError: the CRM said no\n\nTraceback ...") -> Job:
    return Job.objects.create(
        kind=kind, workspace=workspace, status=JobStatus.FAILED, attempts=3, max_attempts=3,
        last_error=error, finished_at=timezone.now(),
    )


def retry_url(job: Job) -> str:
    return reverse("web:job_retry", args=[job.pk])


def test_the_jobs_page_lives_at_settings_jobs():
    assert reverse("web:jobs") == URL


def test_an_admin_sees_the_workspaces_jobs_with_their_reasons(owner, outsider):
    failed = failed_job(owner.workspace)
    Job.objects.create(kind="tests.noop", workspace=owner.workspace)
    failed_job(outsider.workspace, kind="tests.theirs")
    Job.objects.create(kind="tests.global_housekeeping")
    response = owner.browser.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "tests.fail" in html and "tests.noop" in html
    assert "ValueError: the CRM said no" in html
    assert "3/3" in html and 'class="badge badge-failed"' in html
    assert f'action="{retry_url(failed)}"' in html
    assert "tests.theirs" not in html and "tests.global_housekeeping" not in html


def test_the_list_filters_by_status(owner):
    failed_job(owner.workspace)
    Job.objects.create(kind="tests.noop", workspace=owner.workspace)
    html = owner.browser.get(URL, {"status": "queued"}).content.decode()
    assert "tests.noop" in html and "tests.fail" not in html


def test_an_unknown_status_filter_is_refused_naming_the_field(owner):
    response = owner.browser.get(URL, {"status": "exploded"})
    assert response.status_code == 400
    assert response.content.decode().startswith("status:")


def test_an_htmx_request_gets_only_the_table(owner):
    Job.objects.create(kind="tests.noop", workspace=owner.workspace)
    html = owner.browser.get(URL, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="job-table">')
    assert "<html" not in html and "tests.noop" in html


def test_an_empty_list_says_what_jobs_are(owner):
    html = owner.browser.get(URL).content.decode()
    assert "No background jobs yet" in html
    assert "imports, rescoring, emails and webhooks" in html


@pytest.mark.parametrize("persona", ["viewer", "practitioner", "contributor"])
def test_members_without_the_admin_seat_cannot_see_jobs(persona, request):
    assert request.getfixturevalue(persona).browser.get(URL).status_code == 403


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(db):
    response = Client().get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_is_paginated_with_a_bounded_number_of_queries(owner, django_assert_max_num_queries):
    now = timezone.now()
    Job.objects.bulk_create(
        Job(kind=f"tests.k{i}", workspace=owner.workspace, created_at=now - timedelta(seconds=i)) for i in range(120)
    )
    owner.browser.get(URL)  # warm the session
    with django_assert_max_num_queries(7):
        first = owner.browser.get(URL).content.decode()
    with django_assert_max_num_queries(7):
        last = owner.browser.get(URL, {"page": 3}).content.decode()
    assert "tests.k0<" in first and "tests.k49<" in first and "tests.k50<" not in first
    assert "1–50 of 120 jobs" in first
    assert "tests.k119<" in last and "101–120 of 120 jobs" in last


def test_an_admin_retries_a_failed_job(owner):
    job = failed_job(owner.workspace)
    response = owner.browser.post(retry_url(job), {"status": "failed"})
    assert response.status_code == 302 and response["Location"] == URL + "?status=failed"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.finished_at) == (JobStatus.QUEUED, 0, None)
    assert job.due_at <= timezone.now()
    assert job.last_error.startswith("ValueError"), "the reason stays visible until the next attempt"
    assert "is queued again" in owner.browser.get(URL).content.decode()


def test_a_job_that_has_not_failed_cannot_be_retried(owner):
    job = Job.objects.create(kind="tests.noop", workspace=owner.workspace, status=JobStatus.SUCCEEDED)
    response = owner.browser.post(retry_url(job))
    assert response.status_code == 400
    assert "Only failed jobs can be retried" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED


def test_an_outsider_cannot_retry_our_job(owner, outsider):
    job = failed_job(owner.workspace)
    assert outsider.browser.post(retry_url(job)).status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_a_workspace_cannot_retry_a_job_that_belongs_to_no_workspace(owner):
    job = failed_job(None)
    assert owner.browser.post(retry_url(job)).status_code == 404


def test_a_viewer_cannot_retry_a_job(owner, viewer):
    job = failed_job(owner.workspace)
    assert viewer.browser.post(retry_url(job)).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_retrying_needs_the_csrf_token(owner):
    job = failed_job(owner.workspace)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post(retry_url(job)).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_retrying_is_a_post(owner):
    job = failed_job(owner.workspace)
    assert owner.browser.get(retry_url(job)).status_code == 405
