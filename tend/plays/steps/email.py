"""Send an email through the outbox: to the members holding assignment roles on the account
(its Success Manager…), named members, the account's contacts (all, or its key contacts, or
those with a given role) and/or its end users. Subject and Markdown body are templates over
the account's plain data (docs/plays.md lists the variables).

Each recipient gets a message of their own, so contacts never see each other's addresses;
each message's outbox key is the step run's key plus the address, so a re-run queues
nothing twice (the outbox hands back the first message for a key it already holds).
"""

import hashlib
from typing import Literal

from pydantic import Field, model_validator

from tend.accounts.models import Assignment, Contact, EndUser
from tend.lib.errors import InvalidInput
from tend.outbox.actions import queue_email, queue_emails
from tend.outbox.composing import clean_address
from tend.outbox.rendering import TemplateError, render_markdown_email
from tend.plays.steps import register
from tend.plays.steps.base import Done, Fail, StepConfig, StepKind
from tend.plays.steps.messaging import (
    check_role,
    check_templates,
    prime_account_data,
    template_context,
    template_failure,
)
from tend.workspaces.models import Member

MAX_RECIPIENTS = 500
SHOWN = 20


class SendEmailConfig(StepConfig):
    to_roles: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Assignment role keys: the members holding them on the account (e.g. csm).",
    )
    to_members: list[int] = Field(
        default_factory=list, max_length=50, description="Member ids, whatever the account."
    )
    to_contacts: Literal["all", "key"] | None = Field(
        None, description="The account's contacts: all of them, or its key contacts."
    )
    contact_role: str | None = Field(
        None,
        max_length=120,
        description="Only contacts whose role is this (e.g. Economic buyer), case-insensitive.",
    )
    to_end_users: bool = Field(False, description="The account's end users that have an email.")
    reply_to_role: str | None = Field(
        None, max_length=63, description="Replies go to the member holding this role."
    )
    subject: str = Field(..., min_length=1, max_length=500, description="Subject template.")
    body: str = Field(..., min_length=1, max_length=100_000, description="Markdown body template.")

    @model_validator(mode="after")
    def _someone(self):
        if not (self.to_roles or self.to_members or self.to_contacts or self.to_end_users):
            raise ValueError(
                "name at least one recipient: to_roles, to_members, to_contacts or to_end_users"
            )
        if self.contact_role and not self.to_contacts:
            raise ValueError("contact_role narrows to_contacts; set to_contacts too")
        return self


def recipients(config: SendEmailConfig, account) -> tuple[list[str], list[str]]:
    """``(addresses, skipped)``: the recipients in a stable order without duplicates, and
    why any named person could not be used (no email, an address that is not one)."""
    found: list[tuple[str, str]] = []  # (who, raw address)
    if config.to_roles:
        for a in (
            Assignment.objects.filter(account=account, role__key__in=config.to_roles)
            .select_related("role", "member__user")
            .order_by("role__position", "role__key")
        ):
            if a.member.is_active:
                found.append((f"{a.role.name} {a.member.name}", a.member.user.email))
    if config.to_members:
        for m in Member.objects.filter(
            workspace=account.workspace, pk__in=config.to_members, is_active=True
        ).select_related("user"):
            found.append((f"member {m.name}", m.user.email))
    if config.to_contacts:
        contacts = Contact.objects.filter(account=account).order_by("name", "id")
        if config.to_contacts == "key":
            contacts = contacts.filter(is_key_contact=True)
        if config.contact_role:
            contacts = contacts.filter(role__iexact=config.contact_role)
        found += [(f"contact {c.name}", c.email) for c in contacts[: MAX_RECIPIENTS + 1]]
    if config.to_end_users:
        users = EndUser.objects.filter(account=account).exclude(email="").order_by("email", "id")
        found += [
            (f"end user {u.name or u.external_id}", u.email) for u in users[: MAX_RECIPIENTS + 1]
        ]
    return _addresses(found)


def _addresses(found: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    addresses, skipped, seen = [], [], set()
    for who, raw in found:
        if not raw:
            skipped.append(f"{who} has no email address")
            continue
        try:
            address = clean_address(raw, "to")
        except InvalidInput:
            skipped.append(f"{who}: {raw!r} is not an email address")
            continue
        if address.lower() not in seen:
            seen.add(address.lower())
            addresses.append(address)
    return addresses, skipped


def _reply_to(config: SendEmailConfig, account) -> str | None:
    if not config.reply_to_role:
        return None
    a = (
        Assignment.objects.filter(account=account, role__key=config.reply_to_role)
        .select_related("member__user")
        .first()
    )
    return a.member.user.email if a and a.member.user.email else None


def _nobody(config: SendEmailConfig, skipped: list[str]) -> str:
    asked = []
    if config.to_roles:
        asked.append(f"no member holds {', '.join(config.to_roles)} on the account")
    if config.to_members:
        asked.append("the named members are gone or inactive")
    if config.to_contacts:
        asked.append("no matching contact with an email")
    if config.to_end_users:
        asked.append("no end user with an email")
    why = "; ".join(asked + skipped[:5])
    return f"no recipient: {why}"


def message_key(step_key: str, address: str) -> str:
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:20]
    return f"{step_key}:to:{digest}"


@register
class SendEmail(StepKind):
    kind = "send_email"
    label = "Send an email"
    Config = SendEmailConfig
    local = True
    changes_account = False

    def check(self, config, workspace) -> None:
        for i, key in enumerate(config.to_roles):
            check_role(workspace, key, f"to_roles.{i}")
        if config.reply_to_role:
            check_role(workspace, config.reply_to_role, "reply_to_role")
        known = set(
            Member.objects.filter(workspace=workspace, pk__in=config.to_members).values_list(
                "pk", flat=True
            )
        )
        for i, pk in enumerate(config.to_members):
            if pk not in known:
                raise InvalidInput(f"to_members.{i}", f"no member with id {pk} in this workspace")
        check_templates(subject=config.subject, body=config.body)

    def _prepare(self, config, ctx):
        addresses, skipped = recipients(config, ctx.account)
        rendered = render_markdown_email(config.subject, config.body, template_context(ctx))
        return addresses, skipped, rendered

    def describe(self, config, ctx) -> dict:
        try:
            addresses, skipped, rendered = self._prepare(config, ctx)
        except TemplateError as exc:
            return {"summary": template_failure(exc).reason}
        if not addresses:
            return {
                "summary": f"Would fail: {_nobody(config, skipped)}.",
                "to": [],
                "skipped": skipped,
            }
        if len(addresses) > MAX_RECIPIENTS:
            return {
                "summary": f"Would fail: {len(addresses)} recipients, at most {MAX_RECIPIENTS}."
            }
        shown = ", ".join(addresses[:3]) + (
            f" and {len(addresses) - 3} more" if len(addresses) > 3 else ""
        )
        return {
            "summary": f"Send {rendered.subject!r} to {shown}.",
            "to": addresses[:SHOWN],
            "recipients": len(addresses),
            "reply_to": _reply_to(config, ctx.account),
            "skipped": skipped,
            "subject": rendered.subject,
            "body": rendered.text,
        }

    def _queue(self, ctx, addresses, rendered, reply_to) -> list:
        return [
            queue_email(
                ctx.workspace,
                to=[address],
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                reply_to=reply_to,
                account_id=ctx.account.pk,
                source=f"play:{ctx.play.pk}" if ctx.play is not None else "play",
                key=message_key(ctx.key, address),
            )
            for address in addresses
        ]

    def run_many(self, ctxs):
        """``run`` for many accounts at once, when the email goes to assignment roles only
        (the usual play email): their holders read in one query, the messages queued with
        one insert. Other recipients: None, and the engine calls ``run`` for each."""
        config = ctxs[0].config
        if config.to_members or config.to_contacts or config.to_end_users or config.reply_to_role:
            return None
        prime_account_data([c.account for c in ctxs], ctxs[0].now, ctxs[0].catalog)
        holders: dict[int, list] = {c.account.pk: [] for c in ctxs}
        for a in (
            Assignment.objects.filter(account_id__in=list(holders), role__key__in=config.to_roles)
            .select_related("role", "member__user")
            .order_by("role__position", "role__key")
        ):
            if a.member.is_active:
                holders[a.account_id].append((f"{a.role.name} {a.member.name}", a.member.user.email))
        results: list = [None] * len(ctxs)
        items, owners = [], []
        for i, ctx in enumerate(ctxs):
            addresses, skipped = _addresses(holders[ctx.account.pk])
            try:
                rendered = render_markdown_email(config.subject, config.body, template_context(ctx))
            except TemplateError as exc:
                results[i] = template_failure(exc)
                continue
            if not addresses:
                results[i] = Fail(_nobody(config, skipped))
                continue
            for address in addresses:
                items.append(
                    dict(
                        to=[address],
                        subject=rendered.subject,
                        text=rendered.text,
                        html=rendered.html,
                        account_id=ctx.account.pk,
                        source=f"play:{ctx.play.pk}",
                        key=message_key(ctx.key, address),
                    )
                )
                owners.append(i)
            results[i] = (addresses, skipped, rendered, [])
        for i, message in zip(owners, queue_emails(ctxs[0].workspace, items), strict=True):
            if isinstance(results[i], tuple):
                if isinstance(message, str):
                    results[i] = Fail(f"the email could not be queued: {message}")
                else:
                    results[i][3].append(message)
        for i, result in enumerate(results):
            if isinstance(result, tuple):
                results[i] = _queued(*result)
        return results

    def run(self, ctx):
        config = ctx.config
        try:
            addresses, skipped, rendered = self._prepare(config, ctx)
        except TemplateError as exc:
            return template_failure(exc)
        if not addresses:
            return Fail(_nobody(config, skipped))
        if len(addresses) > MAX_RECIPIENTS:
            return Fail(
                f"{len(addresses)} recipients; a play email goes to at most {MAX_RECIPIENTS} "
                "(narrow it with to_contacts='key' or contact_role)"
            )
        reply_to = _reply_to(config, ctx.account)
        try:
            messages = self._queue(ctx, addresses, rendered, reply_to)
        except InvalidInput as exc:  # e.g. a subject that renders empty
            return Fail(f"the email could not be queued: {exc}")
        return _queued(addresses, skipped, rendered, messages)


def _queued(addresses, skipped, rendered, messages) -> Done:
    shown = ", ".join(addresses[:3]) + (
        f" and {len(addresses) - 3} more" if len(addresses) > 3 else ""
    )
    summary = f"Queued {rendered.subject!r} for {shown}."
    if skipped:
        summary += f" Skipped {len(skipped)}: {'; '.join(skipped[:3])}."
    return Done(
        summary,
        {
            "message_ids": [m.pk for m in messages][:SHOWN],
            "to": addresses[:SHOWN],
            "recipients": len(addresses),
            "skipped": skipped[:SHOWN],
            "subject": rendered.subject,
        },
    )
