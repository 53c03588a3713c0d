"""Fake machine-translation APIs: DeepL, Google v2, Papago, Microsoft v3, LibreTranslate."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from fakeapis.core import FakeApi, Reply, Seen, fake_mt, fake_mt_markup

# --- DeepL ---------------------------------------------------------------------------------
DEEPL_TARGETS = {"JA", "KO", "ZH", "ZH-HANS", "ZH-HANT", "EN-US", "EN-GB", "DE", "FR", "ES"}


@dataclass
class FakeDeepL(FakeApi):
    quota_left: int = 10**9
    glossaries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def handle(self, seen: Seen) -> Reply:
        given = seen.headers.get("authorization", "")
        if given != f"DeepL-Auth-Key {self.key}":
            return 403, {}, {"message": f"Authorization failure, check auth key '{given}'"}
        if seen.path == "/v2/glossaries":
            return self._glossaries(seen)
        if seen.path != "/v2/translate" or seen.method != "POST":
            return 404, {}, {"message": "Not found"}
        if len(seen.body) > 128 * 1024:
            return 413, {}, {"message": "Request Entity Too Large"}
        body = seen.json()
        texts, target = body.get("text"), str(body.get("target_lang", "")).upper()
        if not isinstance(texts, list) or not 1 <= len(texts) <= 50:
            return 400, {}, {"message": "Parameter 'text' must hold 1 to 50 texts"}
        if target not in DEEPL_TARGETS:
            return 400, {}, {"message": "Value for 'target_lang' not supported."}
        chars = sum(len(t) for t in texts)
        if chars > self.quota_left:
            return 456, {}, {"message": "Quota Exceeded"}
        self.quota_left -= chars
        entries = self._glossary_entries(body)
        if isinstance(entries, tuple):
            return entries
        out = [self._one(t, target, entries, body) for t in texts]
        return (
            200,
            {},
            {"translations": [{"detected_source_language": "JA", "text": t} for t in out]},
        )

    def _one(self, text: str, target: str, entries: dict[str, str], body: dict[str, Any]) -> str:
        if body.get("tag_handling") == "xml":
            tags = "|".join(body.get("ignore_tags", [])) or "-"
            return fake_mt_markup(text, target, f"<(?:{tags})>.*?</(?:{tags})>")
        return fake_mt(text, target, entries)

    def _glossary_entries(self, body: dict[str, Any]) -> dict[str, str] | Reply:
        gid = body.get("glossary_id")
        if gid is None:
            return {}
        if "source_lang" not in body:
            return 400, {}, {"message": "Use of a glossary requires the source_lang parameter"}
        if gid not in self.glossaries:
            return 400, {}, {"message": "Invalid glossary_id"}
        return dict(self.glossaries[gid]["entries"])

    def _glossaries(self, seen: Seen) -> Reply:
        if seen.method == "GET":
            listed = [
                {k: v for k, v in g.items() if k != "entries"} for g in self.glossaries.values()
            ]
            return 200, {}, {"glossaries": listed}
        body = seen.json()
        if body.get("entries_format") != "tsv" or not body.get("source_lang"):
            return 400, {}, {"message": "Invalid glossary"}
        entries = [line.split("\t") for line in body["entries"].splitlines() if line]
        gid = f"g{len(self.glossaries) + 1}"
        self.glossaries[gid] = {
            "glossary_id": gid,
            "name": body["name"],
            "ready": True,
            "source_lang": body["source_lang"],
            "target_lang": body["target_lang"],
            "creation_time": "2024-01-01T00:00:00Z",
            "entry_count": len(entries),
            "entries": entries,
        }
        return 201, {}, {k: v for k, v in self.glossaries[gid].items() if k != "entries"}


# --- Google Cloud Translation v2 -----------------------------------------------------------
def _google_error(code: int, message: str, reason: str, status: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "status": status,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def _google_escape(text: str) -> str:
    # Google's answers escape these even in text mode
    return html.escape(text, quote=False).replace("'", "&#39;").replace('"', "&quot;")


@dataclass
class FakeGoogle(FakeApi):
    def handle(self, seen: Seen) -> Reply:
        key = seen.headers.get("x-goog-api-key") or seen.query.get("key", [""])[0]
        if key != self.key:
            return (
                400,
                {},
                _google_error(
                    400,
                    "API key not valid. Please pass a valid API key.",
                    "badRequest",
                    "INVALID_ARGUMENT",
                ),
            )
        if seen.path != "/language/translate/v2" or seen.method != "POST":
            return 404, {}, _google_error(404, "Not Found", "notFound", "NOT_FOUND")
        body = seen.json()
        q = body.get("q")
        q = [q] if isinstance(q, str) else q
        if not q or len(q) > 128:
            return (
                400,
                {},
                _google_error(400, "Too many text segments", "invalid", "INVALID_ARGUMENT"),
            )
        target = body.get("target", "")
        if target not in {"ja", "ko", "zh-CN", "zh-TW", "en", "fr", "de"}:
            return 400, {}, _google_error(400, "Invalid Value", "invalid", "INVALID_ARGUMENT")
        if body.get("format") == "html":
            out = [fake_mt_markup(t, target, r'<span translate="no">.*?</span>') for t in q]
        else:
            out = [_google_escape(fake_mt(t, target)) for t in q]
        items = [{"translatedText": t, "detectedSourceLanguage": "ja"} for t in out]
        return 200, {}, {"data": {"translations": items}}


# --- Papago (NAVER Cloud) ------------------------------------------------------------------
def _papago_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"errorCode": code, "message": message}}


@dataclass
class FakePapago(FakeApi):
    client_id: str = "test-id"
    glossaries: dict[str, dict[str, str]] = field(default_factory=dict)
    quota_exhausted: bool = False

    def handle(self, seen: Seen) -> Reply:
        if (
            seen.headers.get("x-ncp-apigw-api-key-id"),
            seen.headers.get("x-ncp-apigw-api-key"),
        ) != (self.client_id, self.key):
            return 401, {}, _papago_error("200", "Authentication Failed")
        if seen.path != "/nmt/v1/translation" or seen.method != "POST":
            return 404, {}, _papago_error("300", "Not Found Exception")
        if self.quota_exhausted:
            return 429, {}, _papago_error("400", "Quota Exceeded")
        body = seen.json()
        text, target = body.get("text", ""), body.get("target", "")
        if not isinstance(text, str) or len(text) > 5000:
            return 400, {}, _papago_error("N2MT08", "text parameter exceeds max length")
        if target not in {"ko", "en", "ja", "zh-CN", "zh-TW"}:
            return 400, {}, _papago_error("N2MT04", "target parameter is invalid")
        terms = self.glossaries.get(body.get("glossaryKey", ""), {})
        result = {
            "srcLangType": body.get("source"),
            "tarLangType": target,
            "translatedText": fake_mt(text, target, terms),
        }
        return 200, {}, {"message": {"result": result}}


# --- Microsoft Translator v3 ---------------------------------------------------------------
def _ms_error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@dataclass
class FakeMicrosoft(FakeApi):
    region: str | None = None  # when set, Ocp-Apim-Subscription-Region must match

    def handle(self, seen: Seen) -> Reply:
        if seen.headers.get("ocp-apim-subscription-key") != self.key:
            return (
                401,
                {},
                _ms_error(
                    401000,
                    "The request is not authorized because credentials are missing or invalid.",
                ),
            )
        if self.region and seen.headers.get("ocp-apim-subscription-region") != self.region:
            return 401, {}, _ms_error(401015, "The region of the credentials does not match.")
        if seen.path != "/translate" or seen.method != "POST":
            return 404, {}, _ms_error(404001, "The requested resource was not found.")
        if seen.query.get("api-version") != ["3.0"]:
            return 400, {}, _ms_error(400021, "The API version parameter is missing or invalid.")
        target = seen.query.get("to", [""])[0]
        if target not in {"ja", "ko", "zh-Hans", "zh-Hant", "en", "fr", "de"}:
            return 400, {}, _ms_error(400036, "The target language is not valid.")
        items = seen.json()
        texts = [item["Text"] for item in items]
        if len(texts) > 1000 or sum(len(t) for t in texts) > 50_000:
            return 400, {}, _ms_error(400077, "The maximum request size has been exceeded.")
        if seen.query.get("textType") == ["html"]:
            keep = r'<span class="notranslate">.*?</span>'
            out = [fake_mt_markup(t, target, keep) for t in texts]
        else:
            out = [fake_mt(t, target) for t in texts]
        reply = []
        for text in out:
            item: dict[str, Any] = {"translations": [{"text": text, "to": target}]}
            if "from" not in seen.query:
                item["detectedLanguage"] = {"language": "ja", "score": 1.0}
            reply.append(item)
        return 200, {}, reply


# --- LibreTranslate ------------------------------------------------------------------------
LIBRE_LANGS = ["en", "ja", "ko", "zh"]  # an older server: "zh" only, no "zh-Hant"


@dataclass
class FakeLibre(FakeApi):
    key_required: bool = False

    def handle(self, seen: Seen) -> Reply:
        if seen.path == "/languages" and seen.method == "GET":
            names = {"en": "English", "ja": "Japanese", "ko": "Korean", "zh": "Chinese"}
            return (
                200,
                {},
                [
                    {"code": c, "name": names[c], "targets": [t for t in LIBRE_LANGS if t != c]}
                    for c in LIBRE_LANGS
                ],
            )
        if seen.path != "/translate" or seen.method != "POST":
            return 404, {}, {"error": "Not Found"}
        body = seen.json()
        if self.key_required and body.get("api_key") != self.key:
            return 403, {}, {"error": f"Invalid API key {body.get('api_key')!r}"}
        source, target = body.get("source"), body.get("target")
        for lang in (source, target):
            if lang != "auto" and lang not in LIBRE_LANGS:
                return 400, {}, {"error": f"{lang} is not supported"}
        q = body.get("q")
        if isinstance(q, str):
            return 200, {}, {"translatedText": fake_mt(q, target)}
        return 200, {}, {"translatedText": [fake_mt(t, target) for t in q]}
