"""``papago``: NAVER Cloud Papago Text Translation, ``POST {base}/nmt/v1/translation``.

Headers ``X-NCP-APIGW-API-KEY-ID`` / ``X-NCP-APIGW-API-KEY`` (``PAPAGO_CLIENT_ID`` /
``PAPAGO_CLIENT_SECRET``). One string of at most 5000 characters per call. Papago translates
between Korean or English and every language it has, and among Japanese and Chinese.
HTTP 429 with error code ``400`` is the exhausted quota (fatal); ``410``/``420`` are rate
limits (retried). ``PAPAGO_GLOSSARY_KEY`` uses a glossary made in the NCP console
(``glossaryKey``); without it the ``--glossary`` terms are protected by tokens.
``PAPAGO_HONORIFIC=1`` asks for polite Korean.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import requests

from imgtrans.errors import UnsupportedLanguageError
from imgtrans.options import TranslatorOptions
from imgtrans.translators import langs
from imgtrans.translators.base import ContextPair
from imgtrans.translators.http import (
    HttpClient,
    RetryPolicy,
    env_base,
    secret_from_env,
)
from imgtrans.translators.mt import GlossaryMode, MTTranslator

DEFAULT_BASE = "https://papago.apigw.ntruss.com"
_HUBS = frozenset({"ko", "en"})
_CJK = frozenset({"ja", "zh-Hans", "zh-Hant"})


def _error_code(response: requests.Response) -> str:
    try:
        return str(response.json()["error"]["errorCode"])
    except (ValueError, KeyError, TypeError):
        return ""


def _fatal(response: requests.Response) -> str | None:
    if response.status_code == 429 and _error_code(response) == "400":
        return "quota exceeded (error 400); the run stops, rerun later to resume"
    return None


class PapagoTranslator(MTTranslator):
    name = "papago"
    lang_field = "papago"
    max_items = 1
    max_chars = 5000
    max_in_flight = 2

    def __init__(self, options: TranslatorOptions, retry: RetryPolicy | None = None) -> None:
        super().__init__(options, retry)
        self.glossary_key = os.environ.get("PAPAGO_GLOSSARY_KEY", "").strip() or None
        self.honorific = os.environ.get("PAPAGO_HONORIFIC", "").strip().lower() in {
            "1",
            "true",
            "yes",
        }

    def _client(self, options: TranslatorOptions, retry: RetryPolicy | None) -> HttpClient:
        client_id = secret_from_env("PAPAGO_CLIENT_ID")
        secret = secret_from_env("PAPAGO_CLIENT_SECRET")
        assert client_id is not None and secret is not None
        self.base = env_base("PAPAGO_API_BASE", DEFAULT_BASE, options.api_base)
        return HttpClient(
            self.name,
            secrets=[client_id, secret],
            timeout=options.timeout,
            retry=retry,
            fatal=_fatal,
            max_in_flight=self.max_in_flight,
            auth_hint="; check PAPAGO_CLIENT_ID and PAPAGO_CLIENT_SECRET",
            headers={
                "X-NCP-APIGW-API-KEY-ID": client_id.get_secret_value(),
                "X-NCP-APIGW-API-KEY": secret.get_secret_value(),
            },
        )

    def check_pair(self, source: str, target: str) -> None:
        super().check_pair(source, target)
        src, tgt = langs.canonical(source), langs.canonical(target)
        if src != "auto" and not ({src, tgt} & _HUBS or {src, tgt} <= _CJK):
            raise UnsupportedLanguageError(
                f"translator 'papago' does not support {source} -> {target} "
                "(Papago pairs need Korean or English on one side, or Japanese/Chinese on both)"
            )

    def glossary_mode(self, source: str, target: str) -> GlossaryMode:
        if self.glossary_key:
            return "native"
        return super().glossary_mode(source, target)

    def _send(
        self,
        texts: list[str],
        source: str,
        target: str,
        context: Sequence[ContextPair],
        mode: GlossaryMode,
    ) -> list[str]:
        body: dict[str, object] = {
            "source": "auto" if source == "auto" else langs.code_for("papago", source),
            "target": langs.code_for("papago", target),
            "text": texts[0],
        }
        if self.glossary_key and mode == "native":
            body["glossaryKey"] = self.glossary_key
        if self.honorific and target == "ko":
            body["honorific"] = True
        return self._post(
            f"{self.base}/nmt/v1/translation",
            lambda data: [data["message"]["result"]["translatedText"]],
            1,
            json=body,
        )
