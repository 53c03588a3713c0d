"""``deepl``: DeepL API v2 ``POST /v2/translate``.

Auth header ``Authorization: DeepL-Auth-Key K`` (``DEEPL_API_KEY``); keys ending in ``:fx``
are free-plan keys and go to ``api-free.deepl.com``. At most 50 texts and 128 KiB per
request. HTTP 456 means the character quota is used up (fatal, not retried).
Glossary: a DeepL glossary (``POST /v2/glossaries``, reused by name on later runs) when the
source language is known; with ``auto`` the target terms are kept by XML ignore-tags.
Previous pages' source text goes in the ``context`` parameter (not billed).
``DEEPL_FORMALITY`` (``more``/``less``/``prefer_more``/``prefer_less``) is passed through.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import requests

from imgtrans.options import TranslatorOptions
from imgtrans.translators import langs
from imgtrans.translators.base import ContextPair
from imgtrans.translators.http import (
    HttpClient,
    RetryPolicy,
    env_base,
    error_detail,
    secret_from_env,
)
from imgtrans.translators.mt import GlossaryMode, MTTranslator

PRO_BASE = "https://api.deepl.com"
FREE_BASE = "https://api-free.deepl.com"
# Languages DeepL's v2 glossaries accept (its documentation's list).
GLOSSARY_LANGS = frozenset(
    ["DA", "DE", "EN", "ES", "FR", "IT", "JA", "KO", "NB", "NL", "PL", "PT", "RU", "SV", "ZH"]
)
CONTEXT_CHARS = 4000


def _fatal(response: requests.Response) -> str | None:
    if response.status_code == 456:
        return "character quota exceeded (HTTP 456); the run stops, rerun later to resume"
    return None


class DeepLTranslator(MTTranslator):
    name = "deepl"
    lang_field = "deepl_target"
    src_field = "deepl_source"
    max_items = 50
    max_chars = 100_000
    max_bytes = 120 * 1024  # documented limit 128 KiB for the whole body
    markup = ("<keep>", "</keep>")

    def __init__(self, options: TranslatorOptions, retry: RetryPolicy | None = None) -> None:
        super().__init__(options, retry)
        self._glossary_ids: dict[tuple[str, str], str] = {}
        self._glossary_lock = threading.Lock()
        self.formality = os.environ.get("DEEPL_FORMALITY", "").strip() or None

    def _client(self, options: TranslatorOptions, retry: RetryPolicy | None) -> HttpClient:
        key = secret_from_env("DEEPL_API_KEY")
        assert key is not None
        default = FREE_BASE if key.get_secret_value().endswith(":fx") else PRO_BASE
        self.base = env_base("DEEPL_API_BASE", default, options.api_base)
        return HttpClient(
            self.name,
            secrets=[key],
            timeout=options.timeout,
            retry=retry,
            fatal=_fatal,
            max_in_flight=self.max_in_flight,
            auth_hint="; check DEEPL_API_KEY",
            headers={"Authorization": f"DeepL-Auth-Key {key.get_secret_value()}"},
        )

    def glossary_mode(self, source: str, target: str) -> GlossaryMode:
        if not self.glossary:
            return "none"
        if source == "auto":
            return "markup"
        pair = (langs.code_for("deepl_source", source), langs.code_for("deepl_source", target))
        return "native" if all(p in GLOSSARY_LANGS for p in pair) else "markup"

    def _send(
        self,
        texts: list[str],
        source: str,
        target: str,
        context: Sequence[ContextPair],
        mode: GlossaryMode,
    ) -> list[str]:
        body: dict[str, object] = {
            "text": texts,
            "target_lang": langs.code_for(self.lang_field, target),
        }
        if source != "auto":
            body["source_lang"] = langs.code_for("deepl_source", source)
        if context:
            body["context"] = "\n".join(p.source for p in context)[-CONTEXT_CHARS:]
        if self.formality:
            body["formality"] = self.formality
        if mode == "native":
            body["glossary_id"] = self._glossary_id(source, target)
        elif mode == "markup":
            body.update(tag_handling="xml", ignore_tags=["keep"])
        return self._post(
            f"{self.base}/v2/translate",
            lambda data: [t["text"] for t in data["translations"]],
            len(texts),
            json=body,
        )

    def _glossary_id(self, source: str, target: str) -> str:
        """Find this glossary (by name, which holds its digest) or create it; once per pair."""
        src, tgt = langs.code_for("deepl_source", source), langs.code_for("deepl_source", target)
        with self._glossary_lock:
            if (src, tgt) in self._glossary_ids:
                return self._glossary_ids[(src, tgt)]
            name = f"imgtrans-{self.glossary.digest[:16]}"
            found = self._find_glossary(name, src, tgt)
            if found is None:
                found = self._create_glossary(name, src, tgt)
            self._glossary_ids[(src, tgt)] = found
            return found

    def _find_glossary(self, name: str, src: str, tgt: str) -> str | None:
        response = self.http.request("GET", f"{self.base}/v2/glossaries")
        if response.status_code != 200:
            raise self.http.error(
                f"listing glossaries: HTTP {response.status_code}: {error_detail(response)}"
            )
        for item in response.json().get("glossaries", []):
            if (
                item.get("name") == name
                and str(item.get("source_lang", "")).upper() == src
                and str(item.get("target_lang", "")).upper() == tgt
                and item.get("ready", True)
            ):
                return str(item["glossary_id"])
        return None

    def _create_glossary(self, name: str, src: str, tgt: str) -> str:
        body = {
            "name": name,
            "source_lang": src.lower(),
            "target_lang": tgt.lower(),
            "entries": self.glossary.tsv(),
            "entries_format": "tsv",
        }
        response = self.http.request("POST", f"{self.base}/v2/glossaries", json=body)
        if response.status_code not in (200, 201):
            raise self.http.error(
                f"creating the glossary: HTTP {response.status_code}: {error_detail(response)}"
            )
        return str(response.json()["glossary_id"])
