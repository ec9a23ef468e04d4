"""The usage app's REST routers, one module per concept; ``tend/api.py`` mounts ``routers``."""

from tend.usage.api import events

routers = [events.router]
