"""Fonts shipped with imgtrans (see fonts/README.md in the source tree)."""
