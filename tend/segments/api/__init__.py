"""The segments app's REST routers; ``tend/api.py`` mounts ``routers``."""

from tend.segments.api import exports, members, scorecards, segments, views

routers: list = [segments.router, members.router, exports.router, scorecards.router, views.router]
