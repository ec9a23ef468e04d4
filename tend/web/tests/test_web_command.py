"""``tend web``'s gunicorn command line: threaded workers, so that a long streamed response
(an export) is not killed by the arbiter's worker timeout (docs/decisions.md)."""

from tend.web.management.commands.web import gunicorn_argv


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_web_runs_threaded_workers_of_four_threads_by_default(monkeypatch):
    monkeypatch.delenv("WEB_THREADS", raising=False)
    argv = gunicorn_argv()
    assert option(argv, "--worker-class") == "gthread"
    assert option(argv, "--threads") == "4"


def test_web_threads_and_workers_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_THREADS", "8")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    argv = gunicorn_argv()
    assert (option(argv, "--threads"), option(argv, "--workers")) == ("8", "3")


def test_web_takes_request_lines_long_enough_for_a_condition_in_the_address():
    assert option(gunicorn_argv(), "--limit-request-line") == "8190"  # gunicorn's maximum
