"""The condition field ``segment``: membership of other segments, and the rules that keep
references between segments sound.

``{"field": "segment", "op": "in", "value": [12, 15]}`` holds for an account in segment 12
or 15 now; ``not_in`` for an account in neither. Values are segment ids (whole numbers);
an id that is not a segment of the workspace is refused as "unknown segment 99". Both kinds
compile to the stored membership (``SegmentMember``): a static segment's list, a dynamic
segment's last evaluation. The pure evaluator reads the same rows, so the two agree.

Registered with ``tend.accounts.conditions`` from ``SegmentsConfig.ready()``, since accounts
sits below segments.

A segment may not depend on itself, directly or through others: :func:`check_references`
refuses such a condition naming the clause, and :func:`evaluation_order` evaluates the
segments a condition names before the segment itself.
"""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from tend.accounts.conditions import add_field_provider
from tend.lib.conditions import FieldSpec, FieldType
from tend.lib.conditions.tree import parse, walk_leaves
from tend.lib.errors import InvalidInput
from tend.segments.models import Segment, SegmentKind, SegmentMember
from tend.workspaces.models import Workspace

FIELD = "segment"


def _holds(workspace: Workspace):
    def holds(ids: list | None) -> Q:
        # EXISTS rather than IN: "not in a 500,000-account segment" stays an anti-join on
        # PostgreSQL, where NOT IN over a large subquery is re-scanned per row.
        members = SegmentMember.objects.filter(workspace=workspace, account_id=OuterRef("pk"))
        if ids is not None:
            members = members.filter(segment_id__in=ids)
        return Q(Exists(members))

    return holds


def _with_memberships(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related(
        Prefetch(
            "segment_memberships",
            queryset=SegmentMember.objects.only("account_id", "segment_id"),
            to_attr="condition_segments",
        )
    )


def segment_fields(workspace: Workspace) -> list[FieldSpec]:
    ids = tuple(
        Segment.objects.filter(workspace=workspace).order_by("id").values_list("id", flat=True)
    )
    return [
        FieldSpec(
            FIELD,
            FieldType.MULTI_ENUM,
            "Segment",
            options=ids,
            ids=True,
            operators=("in", "not_in"),
            holds=_holds(workspace),
            get=lambda account: [m.segment_id for m in account.condition_segments],
            prepare=_with_memberships,
            group="Segments",
            description="Membership of other segments, by segment id",
        )
    ]


def register() -> None:
    add_field_provider("segments", segment_fields)


# --- References between segments ------------------------------------------------------------


def references(condition) -> list[tuple[str, list[int]]]:
    """``(path of the clause, segment ids)`` for every ``segment`` clause of a structurally
    valid condition (ids that are not whole numbers are left to validation)."""
    if not condition:
        return []
    tree, _errors = parse(condition)
    if tree is None:
        return []
    found = []
    for leaf in walk_leaves(tree):
        if leaf.field == FIELD and isinstance(leaf.value, list):
            ids = [v for v in leaf.value if isinstance(v, int) and not isinstance(v, bool)]
            found.append((leaf.path, ids))
    return found


def referenced_ids(condition) -> set[int]:
    return {i for _path, ids in references(condition) for i in ids}


def dependency_graph(workspace: Workspace) -> dict[int, set[int]]:
    """Segment id → the ids its condition names, for every dynamic segment (one query)."""
    rows = Segment.objects.filter(workspace=workspace, kind=SegmentKind.DYNAMIC).values_list(
        "id", "condition"
    )
    return {pk: referenced_ids(condition) for pk, condition in rows}


def check_references(
    workspace: Workspace,
    condition,
    *,
    segment: Segment | None = None,
    visible: Iterable[int] | None = None,
    prefix: str = "condition",
) -> None:
    """Refuse (``InvalidInput`` naming the clause) a condition that names a segment the
    actor cannot see (``visible``: the ids they can; answered as unknown, so a private
    segment's id reveals nothing) or that would make ``segment`` depend on itself."""
    found = references(condition)
    if not found:
        return
    if visible is not None:
        visible = set(visible)
        for path, ids in found:
            for index, ref in enumerate(ids):
                if ref not in visible:
                    raise InvalidInput(_at(prefix, path, "value", index), f"unknown segment {ref}")
    if segment is None or segment.pk is None:
        return  # a new segment: nothing can refer to it yet
    graph = dependency_graph(workspace)
    names = dict(Segment.objects.filter(workspace=workspace).values_list("id", "name"))
    for path, ids in found:
        for ref in ids:
            chain = _path_to(graph, ref, segment.pk)
            if chain is None:
                continue
            where = _at(prefix, path, "value")
            if ref == segment.pk:
                raise InvalidInput(where, "a segment may not refer to itself")
            shown = " → ".join(repr(names.get(pk, str(pk))) for pk in chain)
            raise InvalidInput(
                where,
                f"segment {names.get(ref, ref)!r} refers back to this one ({shown} → this "
                "segment); a segment may not depend on itself",
            )


def _at(*parts) -> str:
    return ".".join(str(p) for p in parts if p != "")


def _path_to(graph: dict[int, set[int]], start: int, target: int) -> list[int] | None:
    """The segments from ``start`` to ``target`` following references, or None."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, path = stack.pop()
        if node == target:
            return path[:-1]
        if node in seen:
            continue
        seen.add(node)
        for nxt in sorted(graph.get(node, ())):
            stack.append((nxt, [*path, nxt]))
    return None


def evaluation_order(segments: list[Segment]) -> list[Segment]:
    """``segments`` with every segment after the ones its condition names (that are in the
    list), so that one pass sees fresh membership; otherwise by id."""
    by_id = {s.pk: s for s in segments}
    needs = {s.pk: referenced_ids(s.condition) & by_id.keys() - {s.pk} for s in segments}
    order: list[Segment] = []
    done: set[int] = set()
    while len(order) < len(segments):
        ready = [pk for pk in sorted(by_id) if pk not in done and needs[pk] <= done]
        if not ready:  # a cycle (refused when saved, so only from a race): break it by id
            ready = [min(pk for pk in by_id if pk not in done)]
        for pk in ready:
            done.add(pk)
            order.append(by_id[pk])
    return order
