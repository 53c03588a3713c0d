"""``libretranslate``: a LibreTranslate server, ``POST {base}/translate``.

``LIBRETRANSLATE_API_BASE`` (or ``--api-base``) points at a self-hosted server (default the
public ``https://libretranslate.com``, which needs ``LIBRETRANSLATE_API_KEY``); the key, when
set, goes in the ``api_key`` body field. ``q`` is a list, so a page is one request (split at
25 texts / 5000 characters, ``LIBRETRANSLATE_CHAR_LIMIT`` changes the latter to match the
server's ``--char-limit``). The language codes come from the server's ``GET /languages``.
Glossary terms are protected by tokens.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from imgtrans.errors import UnsupportedLanguageError
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

DEFAULT_BASE = "https://libretranslate.com"


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class LibreTranslateTranslator(MTTranslator):
    name = "libretranslate"
    lang_field = "libretranslate"
    max_items = 25
    max_in_flight = 2

    def __init__(self, options: TranslatorOptions, retry: RetryPolicy | None = None) -> None:
        super().__init__(options, retry)
        self.max_chars = int(os.environ.get("LIBRETRANSLATE_CHAR_LIMIT", "5000"))
        self._server_langs: dict[str, set[str]] | None = None
        self._lock = threading.Lock()

    def _client(self, options: TranslatorOptions, retry: RetryPolicy | None) -> HttpClient:
        self.key = secret_from_env("LIBRETRANSLATE_API_KEY", required=False)
        self.base = env_base("LIBRETRANSLATE_API_BASE", DEFAULT_BASE, options.api_base)
        return HttpClient(
            self.name,
            secrets=[self.key],
            timeout=options.timeout,
            retry=retry,
            max_in_flight=self.max_in_flight,
            auth_hint="; check LIBRETRANSLATE_API_KEY",
        )

    def server_languages(self) -> dict[str, set[str]]:
        """``GET /languages``: source code -> the target codes the server offers for it."""
        with self._lock:
            if self._server_langs is None:
                response = self.http.request("GET", f"{self.base}/languages")
                if response.status_code != 200:
                    raise self.http.error(
                        f"GET /languages: HTTP {response.status_code}: {error_detail(response)}"
                    )
                try:
                    self._server_langs = {
                        str(item["code"]): set(item.get("targets", [])) for item in response.json()
                    }
                except (ValueError, KeyError, TypeError):
                    raise self.http.error("unexpected answer from GET /languages") from None
            return self._server_langs

    def server_code(self, code: str) -> str | None:
        """This server's code for an imgtrans code (``zh-Hans`` may be ``zh``), or None."""
        lang = langs.language(code)
        offered = self.server_languages()
        if lang is None:
            return None
        return next((c for c in lang.libretranslate if c in offered), None)

    def check_pair(self, source: str, target: str) -> None:
        super().check_pair(source, target)
        tgt = self.server_code(target)
        src = "auto" if langs.canonical(source) == "auto" else self.server_code(source)
        offered = self.server_languages()
        ok = tgt is not None and src is not None and (src == "auto" or tgt in offered[src])
        if not ok:
            raise UnsupportedLanguageError(
                f"translator 'libretranslate' at {self.base} does not offer {source} -> {target}; "
                f"its languages: {', '.join(sorted(offered))}"
            )

    def _send(
        self,
        texts: list[str],
        source: str,
        target: str,
        context: Sequence[ContextPair],
        mode: GlossaryMode,
    ) -> list[str]:
        body: dict[str, object] = {
            "q": texts,
            "source": "auto" if source == "auto" else self.server_code(source),
            "target": self.server_code(target),
            "format": "text",
        }
        if self.key is not None:
            body["api_key"] = self.key.get_secret_value()
        return self._post(
            f"{self.base}/translate",
            lambda data: _as_list(data["translatedText"]),
            len(texts),
            json=body,
        )
