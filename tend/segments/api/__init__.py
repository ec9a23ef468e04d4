"""The segments app's REST routers; ``tend/api.py`` mounts ``routers``."""

routers: list = []
