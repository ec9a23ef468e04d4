"""STARTTLS with a login, and implicit TLS (smtps), against aiosmtpd with a self-signed
certificate: accepted with ?verify=0, refused (and retried) when the certificate is checked."""

import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tend.outbox.actions import queue_email
from tend.outbox.models import MessageStatus
from tend.outbox.tests.conftest import Mailbox, free_port, run_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def check_login(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"tend",
        b"s3cret/!",
    )
    return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535 itself


@pytest.fixture
def tls_server(certificate):
    servers = []

    def start(**kwargs):
        mailbox = Mailbox()
        port = free_port()
        # PLAIN only: aiosmtpd's LOGIN and smtplib's differ on a refused password.
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=port,
            authenticator=check_login,
            auth_exclude_mechanism=["LOGIN"],
            **kwargs,
        )
        controller.start()
        servers.append(controller)
        mailbox.port = port
        return mailbox

    yield start
    for controller in servers:
        controller.stop()


def send(workspace):
    return queue_email(
        workspace, to=["maya@customer.test"], subject="Over TLS", text="Encrypted.\n"
    )


def test_starttls_with_a_login_delivers(workspace, settings, tls_server, certificate):
    mailbox = tls_server(tls_context=certificate, require_starttls=True, auth_require_tls=True)
    settings.EMAIL_URL = (
        f"smtp://tend:s3cret%2F%21@127.0.0.1:{mailbox.port}?tls=1&verify=0&timeout=5"
    )
    message = send(workspace)
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT, message.reason
    assert mailbox.received[0]["message"]["Subject"] == "Over TLS"


def test_a_wrong_password_is_retried_with_a_hint(workspace, settings, tls_server, certificate):
    mailbox = tls_server(tls_context=certificate, require_starttls=True, auth_require_tls=True)
    settings.EMAIL_URL = f"smtp+tls://tend:wrong@127.0.0.1:{mailbox.port}?verify=0&timeout=5"
    message = send(workspace)
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.RETRYING
    assert message.reason.startswith("535 ")
    assert "check the user and password in EMAIL_URL" in message.reason
    assert mailbox.received == []


def test_implicit_tls_delivers(workspace, settings, tls_server, certificate):
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; the socket is TLS anyway.
    mailbox = tls_server(ssl_context=certificate, auth_require_tls=False)
    settings.EMAIL_URL = f"smtps://tend:s3cret%2F%21@127.0.0.1:{mailbox.port}?verify=0&timeout=5"
    message = send(workspace)
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT, message.reason
    assert len(mailbox.received) == 1


def test_an_untrusted_certificate_is_refused_and_retried(
    workspace, settings, tls_server, certificate
):
    mailbox = tls_server(tls_context=certificate, require_starttls=True)
    settings.EMAIL_URL = f"smtp+tls://127.0.0.1:{mailbox.port}?timeout=5"
    message = send(workspace)
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.RETRYING
    assert "CERTIFICATE_VERIFY_FAILED" in message.reason
    assert mailbox.received == []
