import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tend.hub import actions
from tend.hub.models import Import
from tend.hub.running import run_import


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    """Uploads go to this test's own folder."""
    settings.TEND_IMPORT_DIR = tmp_path / "imports"
    return settings.TEND_IMPORT_DIR


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


@pytest.fixture
def upload():
    """Upload ``content`` as ``name`` for ``persona``; returns the draft import."""

    def _upload(persona, content: bytes, name: str = "accounts.csv", object: str = "account", **kwargs) -> Import:
        return actions.upload_file(persona.actor, SimpleUploadedFile(name, content), object=object, **kwargs)

    return _upload


@pytest.fixture
def run_now():
    """Map, queue and run an import in this process (the job body, called directly)."""

    def _run(persona, imp: Import, mapping: dict | None = None, *, dry_run=False, unknown="ignore") -> Import:
        if mapping is None:
            mapping = {h: f for h, f in imp.mapping.items() if f}
        actions.set_mapping(persona.actor, imp, mapping, unknown=unknown)
        imp = actions.start_import(persona.actor, imp, dry_run=dry_run)
        run_import(imp.pk)
        imp.refresh_from_db()
        return imp

    return _run
