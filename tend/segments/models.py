"""Segments: saved conditions (dynamic) or saved lists (static), their membership history,
saved views and scorecards."""
