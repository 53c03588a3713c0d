"""``none``: translate nothing. The pages come out with their text erased ("clean pages")."""

from __future__ import annotations

from collections.abc import Sequence

from imgtrans.translators.base import ContextPair, Translation, Translator


class NoneTranslator(Translator):
    name = "none"

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        return [Translation(None, "translator 'none' keeps text untranslated") for _ in texts]
