"""``google``: Google Cloud Translation v2 (Basic), ``POST {base}/language/translate/v2``.

The key (``GOOGLE_API_KEY``) goes in the ``X-Goog-Api-Key`` header, which Google accepts in
place of ``?key=``: a URL would carry it into proxy and urllib3 debug logs. At most 128
segments per request (30k characters kept as a margin). Answers are HTML-escaped even in
text mode (``&#39;``), so they are unescaped. Glossary terms: HTML mode with the target term
inside ``<span translate="no">``.
"""

from __future__ import annotations

import html
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

DEFAULT_BASE = "https://translation.googleapis.com"
_QUOTA_REASONS = ("dailyLimitExceeded", "quotaExceeded", "billingNotEnabled", "accessNotConfigured")


def _fatal(response: requests.Response) -> str | None:
    if response.status_code == 400 and "api key not valid" in error_detail(response).lower():
        # Google answers a bad key with 400, not 401: not a fault of the text sent.
        return f"authentication failed (HTTP 400: {error_detail(response)})"
    if response.status_code not in (403, 429):
        return None
    try:
        errors = response.json()["error"].get("errors", [])
        reasons = {str(e.get("reason")) for e in errors}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    hit = sorted(reasons.intersection(_QUOTA_REASONS))
    if hit:
        return f"quota or billing problem ({', '.join(hit)}): {error_detail(response)}"
    return None


class GoogleTranslator(MTTranslator):
    name = "google"
    lang_field = "google"
    max_items = 128
    max_chars = 30_000
    markup = ('<span translate="no">', "</span>")

    def _client(self, options: TranslatorOptions, retry: RetryPolicy | None) -> HttpClient:
        key = secret_from_env("GOOGLE_API_KEY")
        assert key is not None
        self.base = env_base("GOOGLE_API_BASE", DEFAULT_BASE, options.api_base)
        return HttpClient(
            self.name,
            secrets=[key],
            timeout=options.timeout,
            retry=retry,
            fatal=_fatal,
            max_in_flight=self.max_in_flight,
            auth_hint="; check GOOGLE_API_KEY",
            headers={"X-Goog-Api-Key": key.get_secret_value()},
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
            "target": langs.code_for("google", target),
            "format": "html" if mode == "markup" else "text",
        }
        if source != "auto":
            body["source"] = langs.code_for("google", source)
        out = self._post(
            f"{self.base}/language/translate/v2",
            lambda data: [item["translatedText"] for item in data["data"]["translations"]],
            len(texts),
            json=body,
        )
        # markup mode strips tags and unescapes later; text mode still needs unescaping
        return out if mode == "markup" else [html.unescape(o) for o in out]
