"""The unsubscribe link's token: signed (``django.core.signing``) over the member's id and
workspace, with a salt of its own, so it works without logging in, only for that member,
and cannot be made for another by editing it."""

from django.core import signing

SALT = "tend.digest.unsubscribe"


def _signer() -> signing.Signer:
    # No timestamp: a link in a year-old email still works, and the same member always gets
    # the same token.
    return signing.Signer(salt=SALT)


def unsubscribe_token(member) -> str:
    return _signer().sign_object({"m": member.pk, "w": member.workspace_id})


def member_ids_of(token: str) -> tuple[int, int] | None:
    """(member id, workspace id) from a genuine token; None for anything else."""
    try:
        data = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    member_id, workspace_id = data.get("m"), data.get("w")
    if not isinstance(member_id, int) or not isinstance(workspace_id, int):
        return None
    return member_id, workspace_id
