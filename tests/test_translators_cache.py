"""The SQLite translation cache and build_translator: a rerun makes zero requests, the key
holds backend, model, languages and glossary, failures are not stored, chains send only
what the translation memory lacks."""

from __future__ import annotations

import threading

import pytest
from fakeapis import backend_env

from imgtrans.options import TranslatorOptions
from imgtrans.translators import CachedTranslator, TranslationCache, build_translator
from imgtrans.translators.cache import cache_key

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("clean_env")]


@pytest.fixture
def deepl_env(deepl_api, monkeypatch):
    for var, value in backend_env("deepl", deepl_api).items():
        monkeypatch.setenv(var, value)
    return deepl_api


def run(options: TranslatorOptions, texts: list[str], target: str = "ko") -> list[str | None]:
    translator = build_translator(options)
    try:
        return [r.text for r in translator.translate(texts, "ja", target)]
    finally:
        translator.close()


def test_rerun_makes_zero_requests(deepl_env, tmp_path):
    options = TranslatorOptions(name="deepl")
    assert run(options, ["猫", "先生"]) == ["고양이", "선생님"]
    assert len(deepl_env.requests) == 1
    assert run(options, ["猫", "先生"]) == ["고양이", "선생님"]  # a new run, same cache file
    assert len(deepl_env.requests) == 1
    assert (tmp_path / "cache" / "translations.sqlite3").is_file()
    assert run(options, ["猫", "こんにちは"]) == ["고양이", "안녕하세요"]
    assert deepl_env.requests[-1].json()["text"] == ["こんにちは"]  # only the miss is sent


def test_no_cache_and_key_parts(deepl_env, tmp_path):
    run(TranslatorOptions(name="deepl"), ["猫"])
    run(TranslatorOptions(name="deepl", cache=False), ["猫"])
    assert len(deepl_env.requests) == 2
    run(TranslatorOptions(name="deepl"), ["猫"], target="en")  # other target language
    glossary = tmp_path / "g.tsv"
    glossary.write_text("猫\t냥이\n", encoding="utf-8")
    assert run(TranslatorOptions(name="deepl", glossary=glossary), ["猫"]) == ["냥이"]
    assert len(deepl_env.calls("/v2/translate")) == 4


def test_failures_are_not_cached(tmp_path):
    from imgtrans.translators.none import NoneTranslator

    cache = TranslationCache(tmp_path / "c.sqlite3")
    wrapped = CachedTranslator(NoneTranslator(), cache, "")
    assert wrapped.translate(["猫"], "ja", "ko")[0].text is None
    assert cache.get_many([cache_key("none", "ja", "ko", "", "猫")]) == {}


def test_chain_sends_only_what_the_memory_lacks(deepl_env, tmp_path):
    tm = tmp_path / "tm.tsv"
    tm.write_text("猫\t냥냥이\n", encoding="utf-8")
    options = TranslatorOptions(name="tm,deepl", tm=tm)
    assert run(options, ["猫", "先生"]) == ["냥냥이", "선생님"]
    assert [r.json()["text"] for r in deepl_env.requests] == [["先生"]]
    assert build_translator(options).describe() == "tm:tm.tsv,deepl"


def test_cache_is_thread_safe(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite3")

    def work(n: int) -> None:
        for i in range(50):
            key = cache_key("x", "ja", "ko", "", f"{n}-{i}")
            cache.put_many({key: ("x", "ko", f"t{n}-{i}")})
            assert cache.get_many([key]) == {key: f"t{n}-{i}"}

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = [cache_key("x", "ja", "ko", "", f"{n}-{i}") for n in range(6) for i in range(50)]
    assert len(TranslationCache(cache.path).get_many(keys)) == 300
    cache.close()
