"""Piccolo tables of the ``evaluation`` package."""
