"""Piccolo tables of the ``bidding`` package."""
