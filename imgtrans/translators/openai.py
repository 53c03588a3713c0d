"""``openai``: any OpenAI-compatible chat endpoint, ``POST {base}/chat/completions``
(OpenAI, Ollama, llama.cpp server, vLLM, LM Studio).

``OPENAI_API_KEY`` (``Authorization: Bearer``) is required only for api.openai.com.
``--api-base`` / ``OPENAI_API_BASE`` / ``OPENAI_BASE_URL`` choose the server, ``--model`` /
``OPENAI_MODEL`` the model. A page is one request (see :mod:`imgtrans.translators.llm` for
the contract). ``response_format`` json_schema is sent first; a server that rejects it gets
plain JSON instructions from then on. Failing ids are asked again; a batch that still
fails, or whose answer was cut off (``finish_reason == "length"``), is split in half; a
block that fails alone comes back as ``Translation(None, reason)``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from imgtrans.errors import TranslatorError
from imgtrans.options import TranslatorOptions
from imgtrans.translators import langs, llm
from imgtrans.translators.base import ContextPair, Translation, Translator
from imgtrans.translators.glossary import Glossary
from imgtrans.translators.http import (
    ContentRejected,
    HttpClient,
    RetryPolicy,
    error_detail,
    secret_from_env,
)

log = logging.getLogger(__name__)

OPENAI_BASE = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
MAX_ITEMS = 40  # blocks per request; larger pages are split up front
ROUNDS = 2  # tries of the same ids before splitting


def _fatal(response: requests.Response) -> str | None:
    if response.status_code != 429:
        return None
    try:
        err = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(err, dict) and "insufficient_quota" in (err.get("code"), err.get("type")):
        return f"quota exhausted (insufficient_quota: {error_detail(response)})"
    return None


@dataclass(frozen=True)
class Answer:
    content: str
    truncated: bool


@dataclass
class _Page:
    """One translate() call's fixed inputs and request budget."""

    source: str
    target: str
    context: Sequence[ContextPair]
    budget: int


class OpenAITranslator(Translator):
    name = "openai"
    cacheable = True

    def __init__(self, options: TranslatorOptions, retry: RetryPolicy | None = None) -> None:
        base = (
            options.api_base
            or os.environ.get("OPENAI_API_BASE")
            or os.environ.get("OPENAI_BASE_URL")
        )
        self.base = (base or OPENAI_BASE).rstrip("/")
        official = self.base.startswith(OPENAI_BASE)
        key = secret_from_env(
            "OPENAI_API_KEY",
            required=official,
            hint="; a local server (--api-base http://localhost:11434/v1) needs none",
        )
        model = (
            options.model or os.environ.get("OPENAI_MODEL") or (DEFAULT_MODEL if official else None)
        )
        if model is None:
            raise TranslatorError(f"openai: name the model served at {self.base} with --model")
        self.model = model
        self.glossary = Glossary.load(options.glossary)
        self.system_prompt = llm.load_system_prompt(options.system_prompt)
        self.use_schema = os.environ.get("IMGTRANS_LLM_JSON_SCHEMA", "1") != "0"
        self.optional = {"temperature": 0.2}
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
        self.http = HttpClient(
            self.name,
            secrets=[key],
            timeout=options.timeout,
            retry=retry,
            fatal=_fatal,
            max_in_flight=int(os.environ.get("IMGTRANS_LLM_MAX_IN_FLIGHT", "2")),
            headers=headers,
            auth_hint="; check OPENAI_API_KEY",
        )

    def describe(self) -> str:
        return f"openai:{self.model}"

    def check_pair(self, source: str, target: str) -> None:
        langs.check(self.name, "name", source, target)

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        self.check_pair(source, target)
        items = {str(i + 1): t for i, t in enumerate(texts) if t.strip()}
        page = _Page(langs.canonical(source), langs.canonical(target), context, 3 * len(items) + 4)
        done: dict[str, Translation] = {}
        keys = list(items)
        for start in range(0, len(keys), MAX_ITEMS):
            chunk = {k: items[k] for k in keys[start : start + MAX_ITEMS]}
            done.update(self._solve(chunk, page))
        return [done.get(str(i + 1), Translation("")) for i in range(len(texts))]

    def _solve(self, items: Mapping[str, str], page: _Page) -> dict[str, Translation]:
        """Translate ``items``: ask, keep what validates, ask again for the rest, split."""
        results: dict[str, Translation] = {}
        pending = dict(items)
        reasons: dict[str, str] = {}
        for _ in range(ROUNDS):
            if page.budget <= 0:
                return results | {
                    i: Translation(None, "gave up: too many failed requests") for i in pending
                }
            page.budget -= 1
            try:
                answer = self._ask(pending, page)
            except ContentRejected as exc:  # split below to find the texts at fault
                reasons = dict.fromkeys(pending, str(exc))
                if len(pending) == 1:
                    self.http.gave_up_on_text(str(exc))
                break
            if answer.truncated:
                reasons = dict.fromkeys(pending, "answer cut off (finish_reason length)")
                break
            try:
                pairs = llm.parse_answer(answer.content, list(pending))
            except ValueError as exc:
                reasons = dict.fromkeys(pending, str(exc))
                continue
            ok, reasons = llm.validate(pending, pairs, page.target)
            results.update((i, Translation(t)) for i, t in ok.items())
            pending = {i: pending[i] for i in reasons}
            if not pending:
                return results
            log.info(
                "openai: %d of %d ids failed (%s); asking again",
                len(pending),
                len(items),
                "; ".join(sorted(set(reasons.values()))),
            )
        if len(pending) == 1:
            (i,) = pending
            return results | {i: Translation(None, f"{self.describe()}: {reasons[i]}")}
        keys = list(pending)
        half = len(keys) // 2
        for part in (keys[:half], keys[half:]):
            results.update(self._solve({k: pending[k] for k in part}, page))
        return results

    def _ask(self, items: Mapping[str, str], page: _Page) -> Answer:
        terms = self.glossary.terms_in(items.values())
        body: dict[str, Any] = {
            "model": self.model,
            "messages": llm.build_messages(
                self.system_prompt, items, page.source, page.target, page.context, terms
            ),
            **self.optional,
        }
        if self.use_schema:
            body["response_format"] = llm.response_schema(list(items))
        while True:
            response = self.http.request("POST", f"{self.base}/chat/completions", json=body)
            if response.status_code == 200:
                return self._read(response)
            dropped = self._drop_rejected(response, body)
            if not dropped:
                if rejected := self.http.rejected(response):
                    raise rejected
                raise self.http.error(f"HTTP {response.status_code}: {error_detail(response)}")

    def _drop_rejected(self, response: requests.Response, body: dict[str, Any]) -> bool:
        """On a 400/422 naming an optional parameter, stop sending it; True if dropped."""
        if response.status_code not in (400, 422):
            return False
        detail = error_detail(response).lower()
        for param in ("response_format", "json_schema", "temperature"):
            if param in detail or (param == "response_format" and "schema" in detail):
                key = "temperature" if param == "temperature" else "response_format"
                if key in body:
                    log.warning("openai: %s rejects %s; going on without it", self.base, key)
                    body.pop(key)
                    if key == "response_format":
                        self.use_schema = False
                    else:
                        self.optional.pop(key, None)
                    return True
        return False

    def _read(self, response: requests.Response) -> Answer:
        try:
            choice = response.json()["choices"][0]
            content = choice["message"].get("content") or ""
        except (ValueError, KeyError, TypeError, IndexError):
            raise self.http.error("unexpected answer from /chat/completions") from None
        return Answer(str(content), choice.get("finish_reason") == "length")

    def close(self) -> None:
        self.http.close()

    def abort(self) -> None:
        self.http.abort()
