"""Shared pytest setup. ``fakeapis`` provides the local fake translation APIs as fixtures."""

pytest_plugins = ["fakeapis"]
