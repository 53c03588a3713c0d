"""DeepL, Google, Papago, Microsoft and LibreTranslate against local fakes of their APIs:
request format, batching at the documented limits, language mapping, errors, glossary."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fakeapis import FakeDeepL, backend_env, serve

from imgtrans.errors import TranslatorError, UnsupportedLanguageError
from imgtrans.options import TranslatorOptions
from imgtrans.translators.base import ContextPair, Translator
from imgtrans.translators.deepl import FREE_BASE, PRO_BASE, DeepLTranslator
from imgtrans.translators.google import GoogleTranslator
from imgtrans.translators.http import RetryPolicy
from imgtrans.translators.libretranslate import LibreTranslateTranslator
from imgtrans.translators.microsoft import MicrosoftTranslator
from imgtrans.translators.papago import PapagoTranslator

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("clean_env")]
FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, total=5.0)


def make(cls: type, api: object, monkeypatch: pytest.MonkeyPatch, **options: object) -> Translator:
    for var, value in backend_env(cls.name, api).items():  # type: ignore[arg-type]
        monkeypatch.setenv(var, value)
    return cls(TranslatorOptions(name=cls.name, **options), retry=FAST)  # type: ignore[no-any-return]


def texts_of(results: list) -> list[str | None]:
    return [r.text for r in results]


@pytest.fixture
def glossary(tmp_path: Path) -> Path:
    path = tmp_path / "terms.tsv"
    path.write_text("# names\n田中\t타나카\n", encoding="utf-8")
    return path


# --- DeepL ---------------------------------------------------------------------------------
def test_deepl_request_and_answer(deepl_api, monkeypatch):
    tr = make(DeepLTranslator, deepl_api, monkeypatch)
    out = tr.translate(["こんにちは", "", "先生"], "ja", "ko", [ContextPair("前のページ", "이전")])
    assert texts_of(out) == ["안녕하세요", "", "선생님"]
    (req,) = deepl_api.requests
    assert (req.method, req.path) == ("POST", "/v2/translate")
    assert req.headers["authorization"] == f"DeepL-Auth-Key {deepl_api.key}"
    assert req.headers["content-type"] == "application/json"
    body = req.json()
    assert body["text"] == ["こんにちは", "先生"]  # the blank text is not sent
    assert (body["source_lang"], body["target_lang"]) == ("JA", "KO")
    assert body["context"] == "前のページ"


def test_deepl_free_key_uses_free_host(monkeypatch):
    monkeypatch.setenv("DEEPL_API_KEY", "abc:fx")
    assert DeepLTranslator(TranslatorOptions(name="deepl")).base == FREE_BASE
    monkeypatch.setenv("DEEPL_API_KEY", "abc")
    assert DeepLTranslator(TranslatorOptions(name="deepl")).base == PRO_BASE


def test_deepl_splits_at_50_texts_and_128_kib(deepl_api, monkeypatch):
    tr = make(DeepLTranslator, deepl_api, monkeypatch)
    many = [f"猫{i}" for i in range(120)]
    out = tr.translate(many, "ja", "zh-Hant")
    assert texts_of(out) == [f"猫咪{i}" for i in range(120)]
    assert [len(r.json()["text"]) for r in deepl_api.requests] == [50, 50, 20]
    assert deepl_api.requests[0].json()["target_lang"] == "ZH-HANT"
    deepl_api.requests.clear()
    big = ["あ" * 3000 + str(i) for i in range(12)]  # ~18 KB of JSON each
    out = tr.translate(big, "ja", "ko")
    assert all(r.text is not None for r in out)
    assert len(deepl_api.requests) > 1
    assert all(len(r.body) <= 128 * 1024 for r in deepl_api.requests)


def test_deepl_quota_456_is_fatal_without_retry(deepl_api, monkeypatch):
    deepl_api.quota_left = 3
    tr = make(DeepLTranslator, deepl_api, monkeypatch)
    with pytest.raises(TranslatorError, match="quota"):
        tr.translate(["こんにちは"], "ja", "ko")
    assert len(deepl_api.requests) == 1


def test_deepl_429_honours_retry_after(deepl_api, monkeypatch):
    deepl_api.fail_next(429, {"message": "Too many requests"}, {"Retry-After": "0.3"})
    tr = make(DeepLTranslator, deepl_api, monkeypatch)
    start = time.monotonic()
    assert texts_of(tr.translate(["猫"], "ja", "ko")) == ["고양이"]
    assert time.monotonic() - start >= 0.3  # FAST's own backoff would be ~0.01 s
    assert len(deepl_api.requests) == 2


def test_deepl_native_glossary_created_once_and_reused(deepl_api, monkeypatch, glossary):
    tr = make(DeepLTranslator, deepl_api, monkeypatch, glossary=glossary)
    assert texts_of(tr.translate(["田中先生"], "ja", "ko")) == ["타나카선생님"]
    tr.translate(["田中"], "ja", "ko")
    (create,) = deepl_api.calls("/v2/glossaries")[1:]  # one GET, one POST
    assert create.method == "POST"
    assert create.json()["entries"] == "田中\t타나카"
    assert (create.json()["source_lang"], create.json()["target_lang"]) == ("ja", "ko")
    assert all(r.json()["glossary_id"] == "g1" for r in deepl_api.calls("/v2/translate"))
    again = make(DeepLTranslator, deepl_api, monkeypatch, glossary=glossary)  # a later run
    assert texts_of(again.translate(["田中"], "ja", "ko")) == ["타나카"]
    assert [r.method for r in deepl_api.calls("/v2/glossaries")] == ["GET", "POST", "GET"]


def test_deepl_glossary_with_auto_source_uses_ignore_tags(deepl_api, monkeypatch, glossary):
    tr = make(DeepLTranslator, deepl_api, monkeypatch, glossary=glossary)
    assert texts_of(tr.translate(["田中 & 猫"], "auto", "ko")) == ["타나카 & 고양이"]
    body = deepl_api.requests[-1].json()
    assert body["tag_handling"] == "xml" and body["ignore_tags"] == ["keep"]
    assert body["text"] == ["<keep>타나카</keep> &amp; 猫"]
    assert "source_lang" not in body


# --- Google --------------------------------------------------------------------------------
def test_google_request_unescape_and_key_not_in_url(google_api, monkeypatch):
    tr = make(GoogleTranslator, google_api, monkeypatch)
    out = tr.translate(['猫\'s <toy> & "ball"'], "ja", "zh-Hans")
    assert texts_of(out) == ['猫咪\'s <toy> & "ball"']
    (req,) = google_api.requests
    assert req.path == "/language/translate/v2" and req.query == {}
    assert req.headers["x-goog-api-key"] == google_api.key
    assert req.json() == {
        "q": ['猫\'s <toy> & "ball"'],
        "target": "zh-CN",
        "source": "ja",
        "format": "text",
    }


def test_google_splits_at_128_segments(google_api, monkeypatch):
    tr = make(GoogleTranslator, google_api, monkeypatch)
    out = tr.translate([f"猫{i}" for i in range(300)], "auto", "ko")
    assert texts_of(out) == [f"고양이{i}" for i in range(300)]
    assert [len(r.json()["q"]) for r in google_api.requests] == [128, 128, 44]
    assert "source" not in google_api.requests[0].json()


def test_google_glossary_html_no_translate(google_api, monkeypatch, glossary):
    tr = make(GoogleTranslator, google_api, monkeypatch, glossary=glossary)
    assert texts_of(tr.translate(["田中の猫"], "ja", "ko")) == ["타나카の고양이"]
    body = google_api.requests[0].json()
    assert body["format"] == "html" and body["q"] == ['<span translate="no">타나카</span>の猫']


# --- Papago --------------------------------------------------------------------------------
def test_papago_one_text_per_request_with_headers(papago_api, monkeypatch):
    monkeypatch.setenv("PAPAGO_HONORIFIC", "1")
    tr = make(PapagoTranslator, papago_api, monkeypatch)
    assert texts_of(tr.translate(["こんにちは", "猫"], "ja", "ko")) == ["안녕하세요", "고양이"]
    assert [r.json()["text"] for r in papago_api.requests] == ["こんにちは", "猫"]
    req = papago_api.requests[0]
    assert req.path == "/nmt/v1/translation"
    assert req.headers["x-ncp-apigw-api-key-id"] == papago_api.client_id
    assert req.headers["x-ncp-apigw-api-key"] == papago_api.key
    assert req.json() == {"source": "ja", "target": "ko", "text": "こんにちは", "honorific": True}


def test_papago_quota_fatal_rate_limit_retried(papago_api, monkeypatch):
    tr = make(PapagoTranslator, papago_api, monkeypatch)
    papago_api.fail_next(429, {"error": {"errorCode": "420", "message": "Rate Limited"}})
    assert texts_of(tr.translate(["猫"], "ja", "zh-Hant")) == ["猫咪"]
    assert len(papago_api.requests) == 2 and papago_api.requests[0].json()["target"] == "zh-TW"
    papago_api.quota_exhausted = True
    with pytest.raises(TranslatorError, match="quota"):
        tr.translate(["猫"], "ja", "ko")
    assert len(papago_api.requests) == 3


def test_papago_glossary_key_and_pair_rules(papago_api, monkeypatch, glossary):
    papago_api.glossaries["gk1"] = {"田中": "타나카"}
    monkeypatch.setenv("PAPAGO_GLOSSARY_KEY", "gk1")
    tr = make(PapagoTranslator, papago_api, monkeypatch, glossary=glossary)
    assert texts_of(tr.translate(["田中"], "ja", "ko")) == ["타나카"]
    assert papago_api.requests[0].json()["glossaryKey"] == "gk1"
    with pytest.raises(UnsupportedLanguageError, match="papago.*fr -> de"):
        tr.check_pair("fr", "de")
    tr.check_pair("ja", "zh-Hant")


def test_papago_glossary_tokens_without_key(papago_api, monkeypatch, glossary):
    tr = make(PapagoTranslator, papago_api, monkeypatch, glossary=glossary)
    assert texts_of(tr.translate(["田中の猫"], "ja", "ko")) == ["타나카の고양이"]
    assert papago_api.requests[0].json()["text"] == "[#0]の猫"


# --- Microsoft -----------------------------------------------------------------------------
def test_microsoft_request_format_and_region(microsoft_api, monkeypatch):
    tr = make(MicrosoftTranslator, microsoft_api, monkeypatch)
    assert texts_of(tr.translate(["猫", "先生"], "ja", "zh-Hant")) == ["猫咪", "老师"]
    (req,) = microsoft_api.requests
    assert req.path == "/translate"
    assert req.query == {"api-version": ["3.0"], "to": ["zh-Hant"], "from": ["ja"]}
    assert req.headers["ocp-apim-subscription-key"] == microsoft_api.key
    assert req.headers["ocp-apim-subscription-region"] == "westeurope"
    assert req.json() == [{"Text": "猫"}, {"Text": "先生"}]


def test_microsoft_splits_at_1000_items_and_quota_is_fatal(microsoft_api, monkeypatch):
    tr = make(MicrosoftTranslator, microsoft_api, monkeypatch)
    out = tr.translate([f"猫{i}" for i in range(2100)], "auto", "ko")
    assert out[2099].text == "고양이2099"
    assert [len(r.json()) for r in microsoft_api.requests] == [1000, 1000, 100]
    microsoft_api.fail_next(403, {"error": {"code": 403001, "message": "free quota used up"}})
    with pytest.raises(TranslatorError, match="quota exceeded"):
        tr.translate(["猫"], "ja", "ko")
    assert len(microsoft_api.requests) == 4


def test_microsoft_glossary_notranslate_span(microsoft_api, monkeypatch, glossary):
    tr = make(MicrosoftTranslator, microsoft_api, monkeypatch, glossary=glossary)
    assert texts_of(tr.translate(["田中<猫>"], "ja", "ko")) == ["타나카<고양이>"]
    req = microsoft_api.requests[0]
    assert req.query["textType"] == ["html"]
    assert req.json() == [{"Text": '<span class="notranslate">타나카</span>&lt;猫&gt;'}]


# --- LibreTranslate ------------------------------------------------------------------------
def test_libretranslate_languages_mapping_and_list_q(libre_api, monkeypatch):
    tr = make(LibreTranslateTranslator, libre_api, monkeypatch)
    tr.check_pair("ja", "zh-Hans")
    assert texts_of(tr.translate(["猫", "先生"], "ja", "zh-Hans")) == ["猫咪", "老师"]
    assert [r.path for r in libre_api.requests] == ["/languages", "/translate"]
    body = libre_api.requests[1].json()
    assert body == {
        "q": ["猫", "先生"],
        "source": "ja",
        "target": "zh",
        "format": "text",
        "api_key": libre_api.key,
    }
    with pytest.raises(UnsupportedLanguageError, match="libretranslate.*zh-Hant"):
        tr.check_pair("ja", "zh-Hant")  # this server has no Traditional Chinese


def test_libretranslate_glossary_tokens(libre_api, monkeypatch, glossary):
    tr = make(LibreTranslateTranslator, libre_api, monkeypatch, glossary=glossary)
    assert texts_of(tr.translate(["田中先生", "猫"], "ja", "en")) == ["타나카teacher", "cat"]
    assert libre_api.requests[-1].json()["q"] == ["[#0]先生", "猫"]


# --- every backend -------------------------------------------------------------------------
BACKENDS = {
    "deepl": (DeepLTranslator, "deepl_api", "DEEPL_API_KEY"),
    "google": (GoogleTranslator, "google_api", "GOOGLE_API_KEY"),
    "papago": (PapagoTranslator, "papago_api", "PAPAGO_CLIENT_ID"),
    "microsoft": (MicrosoftTranslator, "microsoft_api", "MICROSOFT_TRANSLATOR_KEY"),
}


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_missing_key_names_the_variable(name):
    cls, _, var = BACKENDS[name]
    with pytest.raises(TranslatorError, match=var):
        cls(TranslatorOptions(name=name))


@pytest.mark.parametrize(
    ("cls", "field", "expected"),
    [
        (
            DeepLTranslator,
            "target_lang",
            {"ja": "JA", "ko": "KO", "zh-Hans": "ZH-HANS", "en": "EN-US"},
        ),
        (GoogleTranslator, "target", {"ja": "ja", "ko": "ko", "zh-Hans": "zh-CN", "en": "en"}),
        (
            PapagoTranslator,
            "target",
            {"ja": "ja", "zh-Hant": "zh-TW", "zh-Hans": "zh-CN", "en": "en"},
        ),
    ],
)
def test_target_codes_from_the_table(cls, field, expected, request, monkeypatch):
    api = request.getfixturevalue(BACKENDS[cls.name][1])
    tr = make(cls, api, monkeypatch)
    for code in expected:
        tr.translate(["안녕하세요" if code != "ko" else "猫"], "ko" if code != "ko" else "ja", code)
    assert [r.json()[field] for r in api.requests] == list(expected.values())


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_unsupported_pair_names_pair_and_backend(name, request, monkeypatch):
    cls, fixture, _ = BACKENDS[name]
    api = request.getfixturevalue(fixture)
    tr = make(cls, api, monkeypatch)
    with pytest.raises(UnsupportedLanguageError, match=f"'{name}'.*ja -> xx"):
        tr.translate(["猫"], "ja", "xx")
    assert api.requests == []


def test_deepl_does_not_offer_vietnamese(deepl_api, monkeypatch):
    with pytest.raises(UnsupportedLanguageError, match="deepl.*vi"):
        make(DeepLTranslator, deepl_api, monkeypatch).check_pair("ja", "vi")


def test_server_down_is_a_translator_error_after_bounded_retries(monkeypatch):
    with serve(FakeDeepL(key="k")) as api:
        url = api.url  # the port is closed once the server stops
    monkeypatch.setenv("DEEPL_API_BASE", url)
    monkeypatch.setenv("DEEPL_API_KEY", "k")
    tr = DeepLTranslator(TranslatorOptions(name="deepl"), retry=FAST)
    with pytest.raises(TranslatorError, match="after 4 attempt"):
        tr.translate(["猫"], "ja", "ko")
