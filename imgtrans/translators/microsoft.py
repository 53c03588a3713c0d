"""``microsoft``: Azure AI Translator v3, ``POST {base}/translate?api-version=3.0&to=..``.

Headers ``Ocp-Apim-Subscription-Key`` (``MICROSOFT_TRANSLATOR_KEY``) and, for regional or
multi-service resources, ``Ocp-Apim-Subscription-Region`` (``MICROSOFT_TRANSLATOR_REGION``).
At most 1000 items and 50,000 characters per request. Error code 403001 is the exhausted
free quota (fatal). Glossary terms: ``textType=html`` with the target term inside
``<span class="notranslate">``.
"""

from __future__ import annotations

import os
import uuid
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

DEFAULT_BASE = "https://api.cognitive.microsofttranslator.com"


def _fatal(response: requests.Response) -> str | None:
    try:
        code = int(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None
    if code in (403001, 403002):
        return f"quota exceeded ({code}: {error_detail(response)})"
    return None


class MicrosoftTranslator(MTTranslator):
    name = "microsoft"
    lang_field = "microsoft"
    max_items = 1000
    max_chars = 50_000
    markup = ('<span class="notranslate">', "</span>")

    def _client(self, options: TranslatorOptions, retry: RetryPolicy | None) -> HttpClient:
        key = secret_from_env("MICROSOFT_TRANSLATOR_KEY")
        assert key is not None
        self.base = env_base("MICROSOFT_TRANSLATOR_API_BASE", DEFAULT_BASE, options.api_base)
        headers = {"Ocp-Apim-Subscription-Key": key.get_secret_value()}
        region = os.environ.get("MICROSOFT_TRANSLATOR_REGION", "").strip()
        if region:
            headers["Ocp-Apim-Subscription-Region"] = region
        return HttpClient(
            self.name,
            secrets=[key],
            timeout=options.timeout,
            retry=retry,
            fatal=_fatal,
            max_in_flight=self.max_in_flight,
            headers=headers,
            auth_hint="; check MICROSOFT_TRANSLATOR_KEY and MICROSOFT_TRANSLATOR_REGION",
        )

    def _send(
        self,
        texts: list[str],
        source: str,
        target: str,
        context: Sequence[ContextPair],
        mode: GlossaryMode,
    ) -> list[str]:
        params = {"api-version": "3.0", "to": langs.code_for("microsoft", target)}
        if source != "auto":
            params["from"] = langs.code_for("microsoft", source)
        if mode == "markup":
            params["textType"] = "html"
        return self._post(
            f"{self.base}/translate",
            lambda data: [item["translations"][0]["text"] for item in data],
            len(texts),
            params=params,
            json=[{"Text": t} for t in texts],
            headers={"X-ClientTraceId": str(uuid.uuid4())},
        )
