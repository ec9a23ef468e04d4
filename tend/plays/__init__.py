"""Plays: automation — a trigger, an optional condition, ordered steps and a run policy.
See docs/plays.md."""
