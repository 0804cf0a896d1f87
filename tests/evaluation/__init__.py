"""Tests of the pure evaluation rules (scheme, scoring, review, inquiry)."""
