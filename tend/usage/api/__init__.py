"""The usage app's REST routers, one module per concept; ``tend/api.py`` mounts ``routers``."""

from tend.usage.api import events, ingestion, metrics, reads

routers = [events.router, ingestion.router, reads.router, metrics.router]
