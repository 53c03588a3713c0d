"""Jinja2 templates (the HTML report), installed as package data."""
