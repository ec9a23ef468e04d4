"""EMAIL_URL's forms, and the errors for the ones that mean nothing."""

from pathlib import Path

import pytest

from tend.outbox.email_url import (
    ConsoleConfig,
    FileConfig,
    InvalidEmailUrl,
    SmtpConfig,
    configured_transport,
    parse_email_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpConfig("mail.example.com", 25, "plain")),
        (
            "smtp://u:p@mail.example.com:2525",
            SmtpConfig("mail.example.com", 2525, "plain", "u", "p"),
        ),
        (
            "smtp://u:p@mail.example.com?tls=1",
            SmtpConfig("mail.example.com", 587, "starttls", "u", "p"),
        ),
        (
            "smtp+tls://u:p@mail.example.com",
            SmtpConfig("mail.example.com", 587, "starttls", "u", "p"),
        ),
        ("smtps://u:p@mail.example.com", SmtpConfig("mail.example.com", 465, "tls", "u", "p")),
        (
            "smtp://apikey%40corp:p%2Fss%3A@smtp.example.com:587?tls=yes&timeout=12.5&verify=0",
            SmtpConfig("smtp.example.com", 587, "starttls", "apikey@corp", "p/ss:", 12.5, False),
        ),
        ("file:///var/mail/tend", FileConfig(Path("/var/mail/tend"))),
        ("console://", ConsoleConfig()),
    ],
)
def test_email_urls_parse(url, expected):
    assert parse_email_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smtp://", "smtp:// needs a host"),
        ("smtp://host:port", "the port is not a number"),
        ("smtp://host?tls=maybe", "?tls=maybe is not a yes/no value"),
        ("smtp://host?timeout=soon", "?timeout=soon is not a number of seconds"),
        ("smtp://host?timeout=0", "?timeout must be more than 0 seconds"),
        ("smtp://host?tsl=1", "unknown option 'tsl'"),
        ("file://", "file:// needs a directory"),
        ("http://mail.example.com", "unknown scheme 'http'"),
        ("mail.example.com", "unknown scheme '(none)'"),
    ],
)
def test_bad_email_urls_say_what_is_wrong(url, message):
    with pytest.raises(
        InvalidEmailUrl, match=message.replace("?", r"\?").replace("(", r"\(").replace(")", r"\)")
    ):
        parse_email_url(url)


def test_the_password_is_not_in_the_description():
    config = parse_email_url("smtps://user:secret@mail.example.com")
    assert config.describe() == "smtps://user@mail.example.com:465"


def test_unset_means_the_development_mail_directory(settings, tmp_path):
    settings.EMAIL_URL = ""
    settings.TEND_MAIL_DIR = tmp_path
    assert configured_transport() == FileConfig(tmp_path, development=True)


def test_a_bad_email_url_fails_the_system_check(settings):
    from tend.outbox.checks import check_email_url

    settings.EMAIL_URL = "smtp:/"
    [error] = check_email_url()
    assert error.id == "outbox.E001"
    assert "EMAIL_URL: smtp:// needs a host" in error.msg
    settings.EMAIL_URL = "smtp://localhost"
    assert check_email_url() == []
