"""Copy-paste examples that send data to this server, one per source, on the ingestion page.

Each uses this server's own address and either a placeholder or the key just created, so
it works when pasted. The paths are the ones the ingestion endpoints are mounted at
(``tend/usage/ingest/urls.py`` at ``/ingest/``, the native API at ``/api/v1/``).
"""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

PLACEHOLDER = "<your ingest key>"


@dataclass(frozen=True)
class Snippet:
    key: str
    label: str
    language: str
    note: str
    code: str


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def snippets(base_url: str, ingest_key: str | None = None) -> list[Snippet]:
    """The examples for a server reachable at ``base_url`` (scheme and host, no slash)."""
    key = ingest_key or PLACEHOLDER
    base = base_url.rstrip("/")
    event = {
        "account_external_id": "acme",
        "user_external_id": "ana@acme.example",
        "activity": "Created report",
        "module": "Reports",
        "message_id": "evt-0001",
    }
    # The key goes in as is: real keys are URL-safe, and the placeholder stays readable.
    pixel = f"sdr_s={key}&" + urlencode(
        {
            "sdr_o": "acme",
            "sdr_odn": "Acme Inc",
            "sdr_u": "ana@acme.example",
            "sdr_a": "Created report",
            "sdr_m": "Reports",
        }
    )
    activity = {
        "email": "ana@acme.example",
        "companyExternalId": "acme",
        "action": "Created report",
    }
    bulk = [
        {"euExtId": "ana", "cId": "acme", "action": "Logged in"},
        {"euExtId": "ben", "cId": "acme", "action": "Exported data"},
    ]
    dimension = {"dimensionId": "api_calls", "value": 1250, "externalId": "acme"}
    planhat = f"{base}/ingest/planhat"
    return [
        Snippet(
            "segment",
            "Segment (Python)",
            "python",
            "The unmodified Segment client: only its host changes. Group calls name the account, "
            "identify calls the user; track calls count as usage.",
            f"""# pip install segment-analytics-python
from segment.analytics import Client

tend = Client("{key}", host="{base}/ingest/segment")
tend.group("ana@acme.example", "acme", {{"name": "Acme Inc", "plan": "Gold"}})
tend.identify("ana@acme.example", {{"email": "ana@acme.example", "name": "Ana Lopez"}})
tend.track("ana@acme.example", "Created report", {{"module": "Reports"}},
           context={{"groupId": "acme"}})
tend.flush()
""",
        ),
        Snippet(
            "rudderstack",
            "RudderStack (Python)",
            "python",
            "RudderStack speaks the Segment spec, so it uses the same endpoint (gzip included).",
            f"""# pip install rudder-sdk-python
from rudderstack.analytics import Client

tend = Client("{key}", host="{base}/ingest/segment")
tend.group("ana@acme.example", "acme", {{"name": "Acme Inc"}})
tend.track("ana@acme.example", "Created report", {{"module": "Reports"}},
           context={{"groupId": "acme"}})
tend.flush()
""",
        ),
        Snippet(
            "api",
            "REST API (curl)",
            "shell",
            "Up to 10,000 events per request; the answer counts what was stored and lists "
            "each refused item with its reason.",
            f"""curl -X POST {base}/api/v1/events \\
  -H "Authorization: Bearer {key}" \\
  -H "Content-Type: application/json" \\
  -d {_shell_quote(json.dumps([event]))}
""",
        ),
        Snippet(
            "totango",
            "Totango collector",
            "shell",
            "For teams moving off Totango: the same pixel call, with the ingest key as the "
            "service id (sdr_s). It always answers with a 1×1 GIF; problems show up below.",
            f"""curl "{base}/ingest/totango/pixel.gif?{pixel}"
""",
        ),
        Snippet(
            "planhat",
            "Planhat analytics",
            "shell",
            "For teams moving off Planhat: one activity, or an array through the bulk path. "
            "The ingest key takes the place of the tenant token.",
            f"""curl -X POST {planhat}/analytics/{key} \\
  -H "Content-Type: application/json" \\
  -d {_shell_quote(json.dumps(activity))}

curl -X POST {planhat}/analytics/bulk/{key} \\
  -H "Content-Type: application/json" \\
  -d {_shell_quote(json.dumps(bulk))}
""",
        ),
        Snippet(
            "planhat-metrics",
            "Planhat metrics",
            "shell",
            "Custom time-series metrics (dimension data): one value per account and day.",
            f"""curl -X POST {planhat}/dimensiondata/{key} \\
  -H "Content-Type: application/json" \\
  -d {_shell_quote(json.dumps(dimension))}
""",
        ),
    ]
