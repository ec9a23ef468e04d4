"""The health app's REST routers; ``tend/api.py`` mounts ``routers``."""

from tend.health.api import backtest, profiles, scores

routers = [scores.router, profiles.router, backtest.router]
