"""The built-in **Customer Intelligence** scorecard: is the customer data complete enough to
run customer success on?

Totango's Customer Intelligence SuccessBLOC ends with a scorecard that validates the data
model: the customer list imported, every account in a journey stage, every account
assigned to its team, the commercial attributes filled in, usage arriving. Each card here
counts the accounts that fail one of those checks, with a target of 0 (at most), so a
card is on track when nothing is left to fix and its click-through lists exactly the
accounts to fix. Up to ``TOLERANCE`` accounts left is "at risk", more is "off track".

The cards carry their own conditions rather than segments: a new workspace has no
``renewal_date`` or ``contract_value`` attribute yet, and a segment's condition must name
fields that exist, whereas a card whose field is missing says what to add and starts
counting once it is there. It also keeps seven housekeeping segments out of every new
workspace's segment list; a card's accounts can still be saved as a segment from its
click-through.

Checks are of the accounts that are not churned (a churned account's stage and team no
longer matter), and the commercial ones of paying accounts, which have contracts.
"""

TEMPLATE = "customer_intelligence"
NAME = "Customer Intelligence"
DESCRIPTION = (
    "Is your customer data complete? Each card counts the accounts missing something customer "
    "success relies on; click a card to list them and fix them."
)
TOLERANCE = 5

NOT_CHURNED = {"field": "status", "op": "ne", "value": "churned"}
PAYING = {"field": "status", "op": "eq", "value": "paying"}


def _missing(*clauses) -> dict:
    return {"all": list(clauses)}


CHECKS = [
    {
        "title": "Customers",
        "description": (
            "Every account that is not churned: the customer list the other cards check. "
            "Accounts arrive from your CRM or product through the API (PUT /api/v1/accounts) "
            "or are added by hand."
        ),
        "condition": NOT_CHURNED,
        "target": None,
    },
    {
        "title": "Without a journey stage",
        "description": (
            "Accounts that are in no journey stage (onboarding, adoption, …), so stage-based "
            "segments, plays and reports miss them. Set the stage on each account, or in bulk "
            "through the API."
        ),
        "condition": _missing(NOT_CHURNED, {"field": "stage", "op": "is_not_set"}),
    },
    {
        "title": "Without a Success Manager",
        "description": (
            "Accounts nobody holds the Success Manager role on, so their tasks and alerts "
            "reach no one. Assign one on each account's profile, or through the API."
        ),
        "condition": _missing(NOT_CHURNED, {"field": "owner.success_manager", "op": "is_not_set"}),
    },
    {
        "title": "Paying, without a renewal date",
        "description": (
            "Paying accounts with no renewal date, so renewal plays and forecasts skip them. "
            "Needs the account attribute renewal_date (a date)."
        ),
        "condition": _missing(PAYING, {"field": "attributes.renewal_date", "op": "is_not_set"}),
    },
    {
        "title": "Paying, without a contract value",
        "description": (
            "Paying accounts with no contract value, so revenue at risk and ARR roll-ups "
            "undercount. Needs the account attribute contract_value (a currency)."
        ),
        "condition": _missing(PAYING, {"field": "attributes.contract_value", "op": "is_not_set"}),
    },
    {
        "title": "Paying, no usage in 30 days",
        "description": (
            "Paying accounts with no product usage in the last 30 days, or none ever: either "
            "usage is not reaching Tend for them (check the external id your product sends) "
            "or they stopped using the product."
        ),
        "condition": _missing(
            PAYING,
            {
                "any": [
                    {"field": "usage.last_seen", "op": "more_than_days_ago", "value": 30},
                    {"field": "usage.last_seen", "op": "is_not_set"},
                ]
            },
        ),
    },
    {
        "title": "Never sent usage",
        "description": (
            "Accounts no usage event has ever arrived for. Connect your product's usage "
            "(the native events API, Segment, Totango's collector) and check that it sends "
            "these accounts' external ids."
        ),
        "condition": _missing(NOT_CHURNED, {"field": "usage.first_seen", "op": "is_not_set"}),
    },
]


def cards() -> list[dict]:
    """The cards' model fields, in order: counts of accounts with a target of at most 0
    (the first, the customer list itself, has no target)."""
    return [
        {
            "title": check["title"],
            "description": check["description"],
            "kind": "count",
            "source": "condition",
            "condition": check["condition"],
            "target": check.get("target", 0),
            "direction": "at_most",
            "tolerance": TOLERANCE if check.get("target", 0) is not None else 0,
        }
        for check in CHECKS
    ]
