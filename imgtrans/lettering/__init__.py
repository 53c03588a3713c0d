"""Lettering: fonts, line breaking, fitting, colours and balloon areas for the render stage.

Nothing here touches a :class:`~imgtrans.page.Page`; ``imgtrans.stages.render`` ties the
pieces together. Images are RGB ``uint8`` ``H x W x 3``; masks are ``bool`` or ``uint8``
``H x W`` as each function says.
"""

from __future__ import annotations


def script_of(lang: str) -> str:
    """The lettering script of a language tag: ``"ko"``, ``"ja"``, ``"zh"`` or ``"latin"``.

    ``zh-Hans``, ``zh_TW``, ``ja-JP`` and ``ko-KR`` are accepted; every other tag is Latin
    (or at least space-separated, left to right).
    """
    base = lang.replace("_", "-").split("-")[0].lower()
    return base if base in ("ko", "ja", "zh") else "latin"
