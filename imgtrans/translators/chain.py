"""``a,b,...``: try each translator in turn; only what one left untranslated goes to the next."""

from __future__ import annotations

from collections.abc import Sequence

from imgtrans.translators.base import ContextPair, Translation, Translator


class ChainTranslator(Translator):
    name = "chain"

    def __init__(self, members: Sequence[Translator]) -> None:
        if not members:
            raise ValueError("a translator chain needs at least one member")
        self.members = list(members)

    def describe(self) -> str:
        return ",".join(m.describe() for m in self.members)

    def check_pair(self, source: str, target: str) -> None:
        for member in self.members:
            member.check_pair(source, target)

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        results: list[Translation] = [Translation(None, "no translator tried") for _ in texts]
        todo = list(range(len(texts)))
        for member in self.members:
            if not todo:
                break
            got = member.translate([texts[i] for i in todo], source, target, context)
            for i, result in zip(todo, got, strict=True):
                results[i] = result
            todo = [i for i in todo if results[i].text is None]
        return results

    def close(self) -> None:
        for member in self.members:
            member.close()

    def abort(self) -> None:
        for member in self.members:
            member.abort()
