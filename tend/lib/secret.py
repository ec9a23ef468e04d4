"""A stable development secret key, kept beside the data it protects."""

import secrets
from pathlib import Path


def development_secret_key(data_dir: Path) -> str:
    """Return the key stored in ``data_dir/secret_key``, creating it on first use.

    Sessions and CSRF tokens survive restarts of a development install this way, while no
    secret is ever committed. Production sets ``SECRET_KEY`` instead.
    """
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        with path.open("x") as handle:  # exclusive: two processes starting together agree
            handle.write(key)
    except FileExistsError:
        return path.read_text().strip()
    path.chmod(0o600)
    return key
