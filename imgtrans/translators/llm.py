"""The LLM contract, independent of HTTP: the prompt, the answer schema, reading the JSON
out of an answer, and checking each translation.

Request: the page's blocks as id-keyed items (plus earlier pages as context and the
glossary terms that occur). Answer: one JSON object ``{"<id>": "<translation>", ...}``.
A translation is accepted when its id occurs once, it is not empty, it is not the source
echoed back (unless the source is already in the target script: names, numbers), and it is
written in the target language's script.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from imgtrans.errors import TranslatorError
from imgtrans.translators import langs
from imgtrans.translators.base import ContextPair, normalize_text

DEFAULT_SYSTEM_PROMPT = """\
You are a professional translator of comics, manga, webtoons and other images with text.
Translate every item from {source} into natural, fluent {target}, the way a published
{target} edition would read: keep the tone, politeness level and character voice, keep
names consistent with the context and the glossary, translate sound effects as {target}
sound effects, and keep each item's meaning inside that item.
Items were read by OCR and may contain small recognition errors; translate what was meant.
Use the glossary's translations for its terms exactly. The context shows earlier pages
only for reference: do not translate it again.
Answer with one JSON object and nothing else: its keys are exactly the item ids, each once,
and each value is that item's {target} translation as a string, never empty."""

LATIN = ("LATIN", "FULLWIDTH")
MAX_CONTEXT_PAIRS = 40
_THINK = re.compile(r"<think>.*?</think>", re.S)


def load_system_prompt(path: Path | None) -> str:
    if path is None:
        return DEFAULT_SYSTEM_PROMPT
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TranslatorError(f"cannot read the system prompt {path}: {exc}") from None


def language_name(code: str) -> str:
    if langs.canonical(code) == "auto":
        return "the source language (detect it)"
    lang = langs.language(code)
    return lang.name if lang else code


def build_messages(
    system_prompt: str,
    items: Mapping[str, str],
    source: str,
    target: str,
    context: Sequence[ContextPair],
    terms: Sequence[tuple[str, str]],
) -> list[dict[str, str]]:
    """The chat messages for one request. ``{source}``/``{target}`` in the system prompt
    are replaced by language names."""
    src_name, tgt_name = language_name(source), language_name(target)
    system = system_prompt.replace("{source}", src_name).replace("{target}", tgt_name)
    payload: dict[str, Any] = {"source_language": src_name, "target_language": tgt_name}
    if terms:
        payload["glossary"] = [{"source": s, "target": t} for s, t in terms]
    if context:
        payload["context"] = [
            {"source": p.source, "translation": p.target} for p in context[-MAX_CONTEXT_PAIRS:]
        ]
    payload["items"] = [{"id": i, "text": t} for i, t in items.items()]
    ids = ", ".join(f'"{i}"' for i in items)
    user = (
        json.dumps(payload, ensure_ascii=False, indent=1)
        + f"\n\nReturn only a JSON object with exactly these keys: {ids}."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def response_schema(ids: Sequence[str]) -> dict[str, Any]:
    """OpenAI ``response_format`` forcing an object with one string per id."""
    schema = {
        "type": "object",
        "properties": {i: {"type": "string"} for i in ids},
        "required": list(ids),
        "additionalProperties": False,
    }
    return {
        "type": "json_schema",
        "json_schema": {"name": "translations", "strict": True, "schema": schema},
    }


def parse_answer(content: str, ids: Sequence[str]) -> list[tuple[str, Any]]:
    """The (key, value) pairs of the answer's JSON object, duplicates kept, found among any
    chatter, code fences or ``<think>`` blocks around it. Raises ``ValueError``."""
    text = _THINK.sub("", content)
    decoder = json.JSONDecoder(object_pairs_hook=list)
    wanted = set(ids)
    first: list[tuple[str, Any]] | None = None
    for match in re.finditer(r"\{", text):
        try:
            pairs, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if len(pairs) == 1 and isinstance(pairs[0][1], list) and pairs[0][0] not in wanted:
            pairs = pairs[0][1]  # {"translations": {...}}
        pairs = [p for p in pairs if isinstance(p, tuple)]
        if any(p[0] in wanted for p in pairs):
            return pairs
        first = pairs if first is None else first
    if first is not None:
        return first  # a JSON object without our ids: every id is missing
    raise ValueError("the answer holds no JSON object")


def script_problem(source: str, output: str, target: str) -> str | None:
    """Why ``output`` is not a translation of ``source`` into ``target``'s script, or None."""
    lang = langs.language(target)
    if lang is None:
        return None
    allowed = set(lang.scripts) | set(LATIN)
    src_foreign = any(s not in allowed for s in langs.letter_scripts(source))
    if normalize_text(output) == normalize_text(source) and src_foreign:
        return "left untranslated (the answer repeats the source)"
    out = langs.letter_scripts(output)
    if not out:
        return None
    foreign = sum(s not in allowed for s in out)
    native = sum(s in lang.scripts for s in out)
    if foreign > 0.3 * len(out) or (native == 0 and src_foreign and lang.scripts != LATIN):
        return f"not written in {lang.name}"
    return None


def validate(
    items: Mapping[str, str], pairs: Sequence[tuple[str, Any]], target: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Split the answer into accepted translations and failures (id -> reason)."""
    seen: dict[str, list[Any]] = {}
    for key, value in pairs:
        if key in items:
            seen.setdefault(key, []).append(value)
    ok: dict[str, str] = {}
    failed: dict[str, str] = {}
    for i, source in items.items():
        values = seen.get(i, [])
        if not values:
            failed[i] = "missing from the answer"
        elif len(values) > 1:
            failed[i] = "id answered more than once"
        elif not isinstance(values[0], str) or not values[0].strip():
            failed[i] = "empty translation"
        else:
            problem = script_problem(source, values[0], target)
            if problem:
                failed[i] = problem
            else:
                ok[i] = values[0].strip()
    return ok, failed
