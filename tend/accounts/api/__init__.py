"""The accounts app's part of the REST API: one router per concept, assembled in tend/api.py."""
