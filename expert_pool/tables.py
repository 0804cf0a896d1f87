"""Piccolo tables of the ``expert_pool`` package."""
