"""imgtrans: translate the text inside images, a whole folder at a time."""

from __future__ import annotations

__version__ = "0.1.0"
