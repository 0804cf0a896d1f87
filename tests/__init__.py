"""Zhaocai test suite."""
