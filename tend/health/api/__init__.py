"""The health app's REST routers; ``tend/api.py`` mounts ``routers``."""

from tend.health.api import profiles, scores

routers = [scores.router, profiles.router]
