"""Jinja templates for ``imgtrans report`` (package data)."""
