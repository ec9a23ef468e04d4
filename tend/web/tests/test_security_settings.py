"""Production settings pass Django's deployment checks; CSRF guards cookie-authenticated forms."""

import os
import subprocess
import sys
from pathlib import Path

from django.test import Client

from tend.test import PASSWORD

ROOT = Path(__file__).resolve().parents[3]


def test_manage_check_deploy_passes_with_production_settings(tmp_path):
    # The browser fixture sets DJANGO_ALLOW_ASYNC_UNSAFE for this process only; production must not.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "a-long-random-production-secret-key-0123456789",
        "TEND_HTTPS": "true",
        "ALLOWED_HOSTS": "tend.example.com",
        "TEND_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_login_form_refuses_a_post_without_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": owner.member.user.email, "password": PASSWORD})
    assert response.status_code == 403


def test_the_login_form_accepts_a_post_with_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/login/", {"username": owner.member.user.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_logout_needs_a_post_with_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post("/logout/").status_code == 403
    assert client.get("/accounts/").status_code == 200
