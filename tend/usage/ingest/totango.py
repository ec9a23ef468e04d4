"""Totango's HTTP collector (the "SDR" pixel), for teams moving off Totango.

A call is a set of ``sdr_*`` parameters, in the query string or a form body:

=====================================  ===============================================
``sdr_s``                              the service id: here, a Tend ingest key
``sdr_o``                              the account's id
``sdr_odn`` / ``sdr_o.account_name``   the account's name (legacy and current spelling)
``sdr_u`` / ``sdr_u.name``             the end user's id (usually an email) and name
``sdr_a`` / ``sdr_m``                  the activity and its module
``sdr_o.<Attribute>``                  an account attribute, by API name (``Contract Value``);
                                       ``sdr_o.parent_id`` sets the parent account,
                                       ``sdr_o.Status`` the status
``sdr_u.<Attribute>``                  an end-user attribute
=====================================  ===============================================

A call without ``sdr_a`` is a pure attribute update. Unknown ``sdr_*`` parameters (cache
busters, heartbeats, ``sdr_p``…) are ignored, as Totango does. Totango answers 200 to
everything and problems surface weeks later; Tend answers 200 too (clients expect it) but
refuses a call it cannot use with a reason in the ingestion log.
"""

from collections.abc import Mapping

from tend.usage.ingest.facts import (
    AccountFact,
    EventFact,
    Intake,
    Reason,
    Refused,
    UserFact,
    key_text,
    name_text,
)
from tend.usage.ingest.wire import refuse_nul
from tend.usage.models import Source

SERVICE_ID = "sdr_s"
ACCOUNT_PREFIX = "sdr_o."
USER_PREFIX = "sdr_u."


def service_id(params: Mapping[str, str]) -> str | None:
    value = params.get(SERVICE_ID)
    return value.strip() if isinstance(value, str) and value.strip() else None


def sample_params(params: Mapping[str, str]) -> dict:
    """The call's parameters for the ingestion log, without the ingest key."""
    return {name: value for name, value in params.items() if name != SERVICE_ID}


def pixel_intake(params: Mapping[str, str], now_ms: int) -> Intake:
    """The facts of one pixel call (index 0), or its refusal with a reason."""
    intake = Intake(source=Source.TOTANGO, received=1)
    try:
        _parse(intake, params, now_ms)
    except Refused as exc:
        intake.accounts.clear()
        intake.users.clear()
        intake.events.clear()
        intake.refuse(0, sample_params(params), exc)
    return intake


def _attributes(params: Mapping[str, str], prefix: str, fields: tuple[str, ...]) -> dict:
    """``prefix<Name>`` parameters as {Name: value}, leaving out the names in ``fields``."""
    attributes = {}
    for name, value in params.items():
        if not name.startswith(prefix):
            continue
        attribute = name[len(prefix) :].strip()
        if not attribute:
            raise Refused(Reason.INVALID_FIELD, name, "names no attribute after the dot")
        if attribute not in fields:
            attributes[attribute] = value
    return attributes


def _parse(intake: Intake, params: Mapping[str, str], now_ms: int) -> None:
    for name, value in params.items():
        if "\x00" in name or "\x00" in value:
            raise refuse_nul(name.replace("\x00", "\\x00"))
    account = key_text(params.get("sdr_o"), "sdr_o", required=False)
    user = key_text(params.get("sdr_u"), "sdr_u", required=False)
    activity = name_text(params.get("sdr_a"), "sdr_a", required=False) or None
    module = name_text(params.get("sdr_m"), "sdr_m", required=False)
    account_name = name_text(
        params.get("sdr_odn") or params.get("sdr_o.account_name"), "sdr_odn", required=False
    )
    user_name = name_text(params.get("sdr_u.name"), "sdr_u.name", required=False)
    account_traits = _attributes(params, ACCOUNT_PREFIX, ("account_name", "parent_id"))
    user_traits = _attributes(params, USER_PREFIX, ("name",))
    parent = key_text(params.get("sdr_o.parent_id"), "sdr_o.parent_id", required=False)

    if account is None and user is None:
        raise Refused(
            Reason.MISSING_FIELD,
            "sdr_o",
            "the call names neither an account (sdr_o) nor a user (sdr_u): nothing to record",
        )
    if module and activity is None:
        raise Refused(
            Reason.MISSING_FIELD, "sdr_a", f"module {module!r} (sdr_m) was sent without an activity"
        )
    if account is None and activity is not None:
        raise Refused(Reason.MISSING_FIELD, "sdr_o", "an activity needs the account id (sdr_o)")
    if account is None and (account_name or account_traits or parent):
        raise Refused(
            Reason.MISSING_FIELD,
            "sdr_o",
            "account attributes (sdr_odn, sdr_o.*) were sent without the account id (sdr_o)",
        )

    # A plain activity call needs no upserts: the event creates what it names. Anything said
    # about the account or the user (or a call that is only an update) is applied as a fact.
    user_fact = user is not None and bool(user_name or user_traits or activity is None)
    if parent is not None:
        # Totango creates the parent on first sight too; the upsert links within one batch.
        intake.accounts.append(AccountFact(0, parent))
    if account is not None and (
        account_name or account_traits or parent or activity is None or user_fact
    ):
        intake.accounts.append(
            AccountFact(0, account, name=account_name or None, traits=account_traits, parent=parent)
        )
    if user_fact:
        intake.users.append(
            UserFact(0, user, account=account, name=user_name or None, traits=user_traits)
        )
    if activity is not None:
        intake.events.append(
            EventFact(0, account, user, activity, module, now_ms, account_name=account_name or None)
        )
