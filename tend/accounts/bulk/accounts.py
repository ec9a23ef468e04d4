"""Bulk upsert of accounts, keyed by external id.

Steps (one transaction):

1. check every item's shape and external id; items sharing an id are all errors;
2. load, in chunks, the rows the batch names (its keys and its parents), the stages, roles,
   members and tags it refers to;
3. clean each item in Python against those lookups (attributes against their definitions);
4. resolve parents — an existing account or another item of the batch — and refuse the
   moves that would make a cycle, repeating until no new error appears (an item whose parent
   item failed fails too);
5. diff each item with its stored row, tags and assignments; unchanged items are not written;
6. write new and changed rows with ``INSERT … ON CONFLICT DO UPDATE`` setting only the changed
   columns (see ``bulk.sql``), parents before the children that point at them, then stage
   and status history, tags and assignments in bulk.
"""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.actions.people import clean_attribute_values
from tend.accounts.bulk.common import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Batch,
    BulkResult,
    chunks,
    load_by_external_id,
)
from tend.accounts.bulk.sql import insert, upsert
from tend.accounts.extensions import api_fields
from tend.accounts.models import (
    Account,
    AccountStatus,
    AccountTag,
    Assignment,
    AssignmentRole,
    AttributeChange,
    Stage,
    StageChange,
    StatusChange,
    Tag,
)
from tend.events import emit_many
from tend.lib.changes import announce
from tend.workspaces.access import WRITE, Actor
from tend.workspaces.models import Member

FIELDS = frozenset(
    {
        "external_id",
        "name",
        "status",
        "parent_external_id",
        "stage",
        "tags",
        "attributes",
        "assignments",
    }
)
# Read-only fields a client may echo back from a GET; they are ignored, not refused, as are
# the fields other apps add to the GET (``extensions.ApiField``).
READ_ONLY = frozenset({"id", "stage_entered_at", "days_in_stage", "created_at", "updated_at"})
ROW = (
    "external_id",
    "id",
    "name",
    "status",
    "parent_id",
    "stage_id",
    "stage_entered_at",
    "attributes",
)
# What a new row sets if a concurrent insert of the same key won the race.
UPDATE_FIELDS = (
    "name",
    "status",
    "parent_id",
    "stage_id",
    "stage_entered_at",
    "attributes",
    "updated_at",
)
STATUSES = frozenset(AccountStatus.values)
# Columns of each written row (see _Upsert._values); the primary key comes from RETURNING.
ATTRIBUTE_CHANGE_COLUMNS = (
    "workspace_id", "account_id", "key", "from_value", "to_value", "changed_at", "changed_by_id", "source",
)
COLUMNS = (
    "workspace_id",
    "external_id",
    "name",
    "status",
    "parent_id",
    "stage_id",
    "stage_entered_at",
    "attributes",
    "created_at",
    "updated_at",
)
UNSET = object()


class Plan:
    """What one valid item asks for, resolved against the lookups."""

    __slots__ = (
        "index", "key", "row", "name", "status", "parent_ext", "parent", "stage_id",
        "attributes", "tags", "assignments", "parent_id", "stage_entered_at", "sets", "pk",
    )  # fmt: skip

    def __init__(self, index: int, key: str, row: tuple | None):
        self.index, self.key, self.row = index, key, row
        self.parent_ext = UNSET  # the requested parent's external id, None, or UNSET
        self.parent = UNSET  # node of the resolved parent (see ``node``), None, or UNSET
        self.pk = None

    @property
    def node(self) -> int:
        """The account's node in the parent graph: its id, or -(index + 1) while it is new."""
        return self.row[1] if self.row else -(self.index + 1)


def upsert_accounts(actor: Actor, items: list[dict], *, source: str = "api") -> BulkResult:
    """Create or update accounts by ``external_id``; return one result per item.

    Items are dicts shaped like the API's account JSON. Fields an item leaves out keep their
    stored value; ``attributes`` and ``assignments`` are merged key by key (``None`` removes
    one); ``tags`` replaces the set. ``name`` is required for a new account.
    """
    actor.require(WRITE)
    batch = Batch(items)
    with transaction.atomic():
        return _Upsert(actor, batch, source).run()


_EVENT_FIELD = {"stage_id": "stage", "parent_id": "parent"}


def _changed_fields(plan: Plan) -> list[str]:
    """The fields an update changed, as the account.updated event names them."""
    names = {_EVENT_FIELD.get(n, n) for n in plan.sets} - {"updated_at", "stage_entered_at"}
    return sorted(names) or ["tags_or_assignments"]


class _Upsert:
    def __init__(self, actor: Actor, batch: Batch, source: str):
        self.actor, self.batch, self.source = actor, batch, source
        self.workspace = actor.workspace
        self.now = timezone.now()
        self.ignored = READ_ONLY | {f.key for f in api_fields()}

    def run(self) -> BulkResult:
        batch = self.batch
        keys = batch.index_keys()
        self._load(keys)
        plans = {}
        for key, index in keys.items():
            plan = self._clean(index, key, batch.items[index])
            if plan is not None:
                plans[index] = plan
        self._resolve_parents(plans, keys)
        plans = {index: plan for index, plan in plans.items() if batch.ok(index)}
        statuses, ids = self._write(plans)
        return batch.result(statuses, ids)

    # --- loading -------------------------------------------------------------------------

    def _load(self, keys: dict[str, int]) -> None:
        ws, items = self.workspace, self.batch.items
        self.definitions = attribute_definitions(ws)
        self.stages = dict(Stage.objects.filter(workspace=ws).values_list("name", "id"))
        self.roles = dict(AssignmentRole.objects.filter(workspace=ws).values_list("key", "id"))
        wanted = set(keys)
        emails, tag_names = set(), set()
        for index in keys.values():
            item = items[index]
            parent = item.get("parent_external_id")
            if isinstance(parent, str) and parent:
                wanted.add(parent)
            assignments = item.get("assignments")
            if isinstance(assignments, dict):
                emails.update(e.lower() for e in assignments.values() if isinstance(e, str) and e)
            tags = item.get("tags")
            if isinstance(tags, list):
                tag_names.update(t.strip() for t in tags if isinstance(t, str))
        self.rows = load_by_external_id(Account, ws, wanted, ROW)
        self.members = {}
        for part in chunks(sorted(emails)):
            self.members.update(
                Member.objects.filter(workspace=ws, user__email__in=part)
                .order_by()
                .values_list("user__email", "id")
            )
        self.tags = {}
        for part in chunks(sorted(tag_names)):
            self.tags.update(
                Tag.objects.filter(workspace=ws, name__in=part).order_by().values_list("name", "id")
            )

    # --- cleaning ------------------------------------------------------------------------

    def _clean(self, index: int, key: str, item: dict) -> Plan | None:
        row = self.rows.get(key)
        plan = Plan(index, key, row)
        errors: list[dict] = []

        def fail(field, message):
            errors.append({"field": field, "message": message})

        for field in item:
            if field not in FIELDS and field not in self.ignored:
                fail(field, "is not a field of an account")

        name = item.get("name", UNSET)
        if name is UNSET:
            if row is None:
                fail("name", "is required for a new account")
            plan.name = row[2] if row else None
        elif not isinstance(name, str) or not name.strip():
            fail("name", "is required")
        elif len(name.strip()) > 255:
            fail("name", "is longer than 255 characters")
        else:
            plan.name = name.strip()

        status = item.get("status", UNSET)
        if status is UNSET:
            plan.status = row[3] if row else AccountStatus.TRIAL
        elif status not in STATUSES:
            fail("status", f"must be one of {', '.join(AccountStatus.values)}")
        else:
            plan.status = status

        if "parent_external_id" in item:
            parent = item["parent_external_id"]
            if parent in (None, ""):
                plan.parent_ext = None
            elif not isinstance(parent, str):
                fail("parent_external_id", "expected text")
            else:
                plan.parent_ext = parent

        stage = item.get("stage", UNSET)
        if stage is UNSET:
            plan.stage_id = row[5] if row else None
        elif stage in (None, ""):
            plan.stage_id = None
        elif not isinstance(stage, str) or stage not in self.stages:
            fail("stage", f"no journey stage named {stage!r}")
        else:
            plan.stage_id = self.stages[stage]

        current = (row[7] or {}) if row else {}
        if "attributes" in item or row is None:
            plan.attributes = clean_attribute_values(
                self.definitions, item.get("attributes", {}), current, errors
            )
        else:
            plan.attributes = current

        plan.tags = None
        if "tags" in item:
            plan.tags = self._clean_tags(item["tags"], fail)

        plan.assignments = None
        if "assignments" in item:
            plan.assignments = self._clean_assignments(item["assignments"], fail)

        if errors:
            self.batch.fail_all(index, errors)
            return None
        return plan

    @staticmethod
    def _clean_tags(tags, fail) -> list[str] | None:
        if not isinstance(tags, list):
            fail("tags", "expected a list of tag names")
            return None
        names = []
        for position, name in enumerate(tags):
            if not isinstance(name, str) or not name.strip():
                fail(f"tags.{position}", "tag names must be non-empty text")
            elif len(name.strip()) > 80:
                fail(f"tags.{position}", "is longer than 80 characters")
            else:
                names.append(name.strip())
        return list(dict.fromkeys(names))

    def _clean_assignments(self, assignments, fail) -> dict | None:
        if not isinstance(assignments, dict):
            fail("assignments", "expected an object of role key → member email")
            return None
        resolved = {}
        for role_key, email in assignments.items():
            role_id = self.roles.get(role_key)
            if role_id is None:
                fail(f"assignments.{role_key}", f"no assignment role with key {role_key!r}")
            elif email in (None, ""):
                resolved[role_id] = None
            elif not isinstance(email, str) or email.lower() not in self.members:
                fail(f"assignments.{role_key}", f"no member with email {email!r} in this workspace")
            else:
                resolved[role_id] = self.members[email.lower()]
        return resolved

    # --- parents -------------------------------------------------------------------------

    def _resolve_parents(self, plans: dict[int, Plan], keys: dict[str, int]) -> None:
        """Point each plan at its parent's node, failing unknown parents and cycles.

        Repeats until stable: a failed new item takes its children down with it, and a failed
        move restores the stored parent, which may change what else is a cycle.
        """
        batch = self.batch
        self.db_parent = {row[1]: row[4] for row in self.rows.values()}
        while True:
            failed = False
            for plan in plans.values():
                if plan.parent_ext is UNSET or not batch.ok(plan.index):
                    continue
                message = self._parent_problem(plan, plans, keys)
                if message:
                    batch.fail(plan.index, "parent_external_id", message)
                    failed = True
            for plan in self._cycles(plans):
                batch.fail(
                    plan.index,
                    "parent_external_id",
                    f"{plan.parent_ext!r} is below this account: that would make a cycle",
                )
                failed = True
            if not failed:
                return

    def _parent_problem(
        self, plan: Plan, plans: dict[int, Plan], keys: dict[str, int]
    ) -> str | None:
        ext = plan.parent_ext
        if ext is None:
            plan.parent = None
            return None
        if ext == plan.key:
            return "an account cannot be its own parent"
        row = self.rows.get(ext)
        if row is not None:
            plan.parent = row[1]
            return None
        index = keys.get(ext)
        if index is None:
            return f"no account with external id {ext!r}"
        if not self.batch.ok(index):
            return f"the parent {ext!r} at index {index} of this request has errors"
        plan.parent = plans[index].node
        return None

    def _cycles(self, plans: dict[int, Plan]) -> list[Plan]:
        """The plans whose new parent chain leads back to themselves."""
        batch = self.batch
        moved = {}
        for plan in plans.values():
            if batch.ok(plan.index) and plan.parent is not UNSET:
                moved[plan.node] = plan.parent
        by_node = {plan.node: plan for plan in plans.values() if plan.node in moved}
        movers = [by_node[node] for node in moved if moved[node] is not None]

        def parent_of(node):
            if node in moved:
                return moved[node]
            if node < 0:
                return None
            return self.db_parent[node]  # KeyError: not loaded yet

        def leads_back(plan, missing) -> bool:
            seen, node = set(), moved[plan.node]
            while node is not None:
                if node == plan.node:
                    return True
                if node in seen:  # an older cycle in the data: not this plan's doing
                    return False
                seen.add(node)
                try:
                    node = parent_of(node)
                except KeyError:
                    missing.add(node)
                    return False
            return False

        while True:
            missing: set[int] = set()
            cyclic = [plan for plan in movers if leads_back(plan, missing)]
            if not missing:
                return cyclic
            for part in chunks(sorted(missing)):
                self.db_parent.update(
                    Account.objects.filter(id__in=part).values_list("id", "parent_id")
                )

    # --- diff and write ------------------------------------------------------------------

    def _write(self, plans: dict[int, Plan]) -> tuple[dict[int, str], dict[int, int]]:
        existing_ids = [
            plan.row[1]
            for plan in plans.values()
            if plan.row and (plan.tags is not None or plan.assignments is not None)
        ]
        current_tags, current_assignments = self._current_links(existing_ids)
        self._create_missing_tags(plans)

        statuses: dict[int, str] = {}
        ids: dict[int, int] = {}
        writes: list[Plan] = []
        stage_moves: list[tuple[Plan, int | None]] = []
        status_moves: list[tuple[Plan, str]] = []
        attribute_moves: list[tuple[Plan, dict]] = []
        for index, plan in plans.items():
            row = plan.row
            if row is None:
                statuses[index] = CREATED
                plan.parent_id = None  # set in _upsert_rows, once a new parent has its id
                plan.stage_entered_at = self.now if plan.stage_id else None
                plan.sets = UPDATE_FIELDS
                if plan.stage_id:
                    stage_moves.append((plan, None))
                if plan.attributes:  # each initial value is a change from nothing
                    attribute_moves.append((plan, {}))
                writes.append(plan)
                continue
            ids[index] = row[1]
            parent_id = row[4] if plan.parent is UNSET else plan.parent
            # Only the columns that change are set: SQLite rewrites the entry of every index
            # on a column an UPDATE sets, even to the same value (name, status, parent and
            # stage are all indexed), which made the write and the commit about half again
            # as long when a sync changes only attributes.
            sets = []
            if plan.name != row[2]:
                sets.append("name")
            if plan.status != row[3]:
                sets.append("status")
            if parent_id != row[4]:
                sets.append("parent_id")
            stage_moved = plan.stage_id != row[5]
            if stage_moved:
                sets += ["stage_id", "stage_entered_at"]
            if plan.attributes != (row[7] or {}):
                sets.append("attributes")
                attribute_moves.append((plan, row[7] or {}))
            if (
                not sets
                and not self._tags_differ(plan, current_tags)
                and not self._assignments_differ(plan, current_assignments)
            ):
                statuses[index] = UNCHANGED
                continue
            statuses[index] = UPDATED
            if stage_moved:
                stage_moves.append((plan, row[5]))
            if plan.status != row[3]:
                status_moves.append((plan, row[3]))
            plan.parent_id = parent_id if parent_id is None or parent_id > 0 else None
            plan.stage_entered_at = (self.now if plan.stage_id else None) if stage_moved else row[6]
            plan.sets = (*sets, "updated_at")
            writes.append(plan)

        self._upsert_rows(writes, plans)
        for plan in writes:
            ids[plan.index] = plan.pk
        self._write_stage_changes(stage_moves)
        self._write_status_changes(status_moves)
        self._write_attribute_changes(attribute_moves)
        if stage_moves or attribute_moves:
            announce(self.workspace.id)
        self._write_tags(writes, current_tags)
        self._write_assignments(writes, current_assignments)
        self._emit_events(writes, statuses)
        return statuses, ids

    def _emit_events(self, writes: list[Plan], statuses: dict[int, str]) -> None:
        """account.created / account.updated for every written account (tend/events)."""
        emit_many(
            self.workspace.id,
            (
                (
                    "account.created" if statuses[plan.index] == CREATED else "account.updated",
                    {
                        "account": {
                            "id": plan.pk,
                            "external_id": plan.key,
                            "name": plan.name,
                            "status": plan.status,
                        },
                        "source": self.source,
                    }
                    | (
                        {}
                        if statuses[plan.index] == CREATED
                        else {"changed": _changed_fields(plan)}
                    ),
                )
                for plan in writes
            ),
            at=self.now,
        )

    def _values(self, plan: Plan) -> tuple:
        """The row for ``plan`` in the order of ``COLUMNS``. ``created_at`` only applies to new
        rows (an update never sets it)."""
        return (
            self.workspace.id,
            plan.key,
            plan.name,
            plan.status,
            plan.parent_id,
            plan.stage_id,
            plan.stage_entered_at,
            plan.attributes,
            self.now,
            self.now,
        )

    def _upsert_rows(self, writes: list[Plan], plans: dict[int, Plan]) -> None:
        """Insert or update in levels: an account whose parent is new in this batch waits for
        the level that creates the parent, so it can point at the parent's id. Within a level,
        rows that set the same columns share statements."""
        levels: dict[int, list[Plan]] = defaultdict(list)
        depth: dict[int, int] = {}

        def level(plan: Plan) -> int:
            # Iterative: a request may hold a chain of thousands of nested new accounts.
            chain = []
            while plan.index not in depth:
                parent = plan.parent
                if parent is UNSET or parent is None or parent > 0:
                    depth[plan.index] = 0
                    break
                chain.append(plan)
                plan = plans[-parent - 1]
            base = depth[plan.index]
            for offset, child in enumerate(reversed(chain), start=1):
                depth[child.index] = base + offset
            return depth[chain[0].index] if chain else base

        for plan in writes:
            levels[level(plan)].append(plan)
        for number in sorted(levels):
            groups: dict[tuple, list[Plan]] = defaultdict(list)
            for plan in levels[number]:
                if plan.parent is not UNSET and plan.parent is not None and plan.parent < 0:
                    plan.parent_id = plans[-plan.parent - 1].pk
                elif plan.row is None and plan.parent not in (UNSET, None):
                    plan.parent_id = plan.parent
                groups[tuple(plan.sets)].append(plan)
            for sets, group in groups.items():
                # In key order, each statement touches neighbouring pages of the unique index.
                group.sort(key=lambda plan: plan.key)
                by_key = {plan.key: plan for plan in group}
                returned = upsert(
                    Account,
                    COLUMNS,
                    [self._values(plan) for plan in group],
                    ["workspace", "external_id"],
                    sets,
                )
                for pk, _workspace_id, key in returned:
                    by_key[key].pk = pk

    def _write_stage_changes(self, moves: list[tuple[Plan, int | None]]) -> None:
        member = self.actor.member
        StageChange.objects.bulk_create(
            [
                StageChange(
                    workspace=self.workspace,
                    account_id=plan.pk,
                    from_stage_id=from_stage,
                    to_stage_id=plan.stage_id,
                    changed_at=self.now,
                    changed_by=member,
                    source=self.source,
                )
                for plan, from_stage in moves
            ]
        )

    def _write_attribute_changes(self, moves: list[tuple[Plan, dict]]) -> None:
        """One ``AttributeChange`` per changed key of existing accounts, and per initial value
        of new ones (from None), in one insert: the diff is already in hand, so this costs a
        row per actual change and nothing else."""
        member_id = self.actor.member.pk if self.actor.member else None
        ws_id, now, source = self.workspace.id, self.now, self.source
        rows = []
        for plan, before in moves:
            after = plan.attributes or {}
            for key in sorted(set(before) | set(after)):
                if before.get(key) != after.get(key):
                    rows.append((ws_id, plan.pk, key, before.get(key), after.get(key), now, member_id, source))
        # Plain tuples through bulk/sql.py: the ORM's bulk_create, 8 columns under SQLite's
        # 999-variable cap, took 120-row statements and most of a 5,000-account request.
        insert(AttributeChange, ATTRIBUTE_CHANGE_COLUMNS, rows)

    def _write_status_changes(self, moves: list[tuple[Plan, str]]) -> None:
        """The status history of existing accounts whose status changed (a new account's first
        status is not a change), in one insert for the batch."""
        if not moves:
            return
        member = self.actor.member
        StatusChange.objects.bulk_create(
            [
                StatusChange(
                    workspace=self.workspace,
                    account_id=plan.pk,
                    from_status=from_status,
                    to_status=plan.status,
                    changed_at=self.now,
                    changed_by=member,
                    source=self.source,
                )
                for plan, from_status in moves
            ]
        )

    # --- tags and assignments ------------------------------------------------------------

    def _current_links(self, account_ids: list[int]) -> tuple[dict, dict]:
        tags: dict[int, dict[str, int]] = defaultdict(dict)
        assignments: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
        for part in chunks(account_ids):
            for link_id, account_id, name in AccountTag.objects.filter(
                account_id__in=part
            ).values_list("id", "account_id", "tag__name"):
                tags[account_id][name] = link_id
            for link_id, account_id, role_id, member_id in Assignment.objects.filter(
                account_id__in=part
            ).values_list("id", "account_id", "role_id", "member_id"):
                assignments[account_id][role_id] = (link_id, member_id)
        return tags, assignments

    def _create_missing_tags(self, plans: dict[int, Plan]) -> None:
        missing = {
            name
            for plan in plans.values()
            if plan.tags
            for name in plan.tags
            if name not in self.tags
        }
        if not missing:
            return
        Tag.objects.bulk_create(
            [Tag(workspace=self.workspace, name=name) for name in sorted(missing)],
            ignore_conflicts=True,
        )
        for part in chunks(sorted(missing)):
            self.tags.update(
                Tag.objects.filter(workspace=self.workspace, name__in=part).values_list(
                    "name", "id"
                )
            )

    @staticmethod
    def _tags_differ(plan: Plan, current: dict) -> bool:
        return plan.tags is not None and set(plan.tags) != set(current.get(plan.row[1], ()))

    @staticmethod
    def _assignments_differ(plan: Plan, current: dict) -> bool:
        if plan.assignments is None:
            return False
        held = current.get(plan.row[1], {})
        for role_id, member_id in plan.assignments.items():
            now_held = held.get(role_id)
            if (now_held[1] if now_held else None) != member_id:
                return True
        return False

    def _write_tags(self, writes: list[Plan], current: dict) -> None:
        stale, fresh = [], []
        for plan in writes:
            if plan.tags is None:
                continue
            account_id = plan.pk
            held = current.get(account_id, {}) if plan.row else {}
            wanted = set(plan.tags)
            stale.extend(link_id for name, link_id in held.items() if name not in wanted)
            fresh.extend(
                AccountTag(account_id=account_id, tag_id=self.tags[name], created_at=self.now)
                for name in plan.tags
                if name not in held
            )
        for part in chunks(stale):
            AccountTag.objects.filter(id__in=part).delete()
        AccountTag.objects.bulk_create(fresh, ignore_conflicts=True)

    def _write_assignments(self, writes: list[Plan], current: dict) -> None:
        stale, fresh = [], []
        for plan in writes:
            if not plan.assignments:
                continue
            account_id = plan.pk
            held = current.get(account_id, {}) if plan.row else {}
            for role_id, member_id in plan.assignments.items():
                now_held = held.get(role_id)
                if member_id is None:
                    if now_held:
                        stale.append(now_held[0])
                elif not now_held or now_held[1] != member_id:
                    fresh.append(
                        Assignment(
                            workspace=self.workspace,
                            account_id=account_id,
                            role_id=role_id,
                            member_id=member_id,
                            created_at=self.now,
                        )
                    )
        for part in chunks(stale):
            Assignment.objects.filter(id__in=part).delete()
        Assignment.objects.bulk_create(
            fresh,
            update_conflicts=True,
            unique_fields=["account", "role"],
            update_fields=["member"],
        )
