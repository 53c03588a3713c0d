"""The openai backend's LLM contract against a local OpenAI-compatible server: one request
per page, JSON keyed by ids, json_schema with fallback, validation, retry of failing ids,
splitting on failure and on truncated answers."""

from __future__ import annotations

import json

import pytest
from fakeapis import backend_env

from imgtrans.errors import TranslatorError
from imgtrans.options import TranslatorOptions
from imgtrans.translators import llm
from imgtrans.translators.base import ContextPair
from imgtrans.translators.http import RetryPolicy
from imgtrans.translators.openai import OpenAITranslator

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("clean_env")]
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, total=5.0)
PAGE = ["こんにちは", "先生", "猫"]
KO = ["안녕하세요", "선생님", "고양이"]


@pytest.fixture
def tr(openai_api, monkeypatch) -> OpenAITranslator:
    for var, value in backend_env("openai", openai_api).items():
        monkeypatch.setenv(var, value)
    return OpenAITranslator(TranslatorOptions(name="openai"), retry=FAST)


def items_of(request) -> dict[str, str]:
    payload, _ = json.JSONDecoder().raw_decode(request.json()["messages"][-1]["content"])
    return {item["id"]: item["text"] for item in payload["items"]}


def texts(results) -> list[str | None]:
    return [r.text for r in results]


def test_one_request_per_page_with_schema_and_context(tr, openai_api):
    context = [ContextPair("前のページ", "이전 페이지")]
    assert texts(tr.translate(PAGE, "ja", "ko", context)) == KO
    (req,) = openai_api.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {openai_api.key}"
    body = req.json()
    assert body["model"] == openai_api.model
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["1", "2", "3"] and schema["additionalProperties"] is False
    system, user = body["messages"]
    assert "Korean" in system["content"] and "Japanese" in system["content"]
    payload, _ = json.JSONDecoder().raw_decode(user["content"])
    assert payload["context"] == [{"source": "前のページ", "translation": "이전 페이지"}]
    assert items_of(req) == {"1": "こんにちは", "2": "先生", "3": "猫"}
    assert tr.describe() == f"openai:{openai_api.model}"


def test_glossary_lists_only_terms_in_the_batch(openai_api, monkeypatch, tmp_path):
    terms = tmp_path / "g.tsv"
    terms.write_text("田中\t타나카\n鈴木\t스즈키\n", encoding="utf-8")
    for var, value in backend_env("openai", openai_api).items():
        monkeypatch.setenv(var, value)
    tr = OpenAITranslator(TranslatorOptions(name="openai", glossary=terms), retry=FAST)
    assert texts(tr.translate(["田中先生"], "ja", "ko")) == ["타나카선생님"]
    payload, _ = json.JSONDecoder().raw_decode(
        openai_api.requests[0].json()["messages"][1]["content"]
    )
    assert payload["glossary"] == [{"source": "田中", "target": "타나카"}]


def test_falls_back_to_plain_json_when_schema_rejected(tr, openai_api):
    openai_api.supports_schema = False
    assert texts(tr.translate(PAGE, "ja", "ko")) == KO
    assert texts(tr.translate(["猫"], "ja", "ko")) == ["고양이"]
    sent = ["response_format" in r.json() for r in openai_api.requests]
    assert sent == [True, False, False]  # rejected once, then never sent again


def test_missing_id_is_asked_again_alone(tr, openai_api):
    openai_api.script.append(
        lambda items, ans: (json.dumps({k: ans[k] for k in ("1", "3")}), "stop")
    )
    assert texts(tr.translate(PAGE, "ja", "ko")) == KO
    assert [items_of(r) for r in openai_api.requests][1] == {"2": "先生"}


def test_duplicate_id_is_asked_again(tr, openai_api):
    openai_api.script.append(
        lambda items, ans: (
            '{"1": "안녕하세요", "2": "선생님", "2": "선생", "3": "고양이"}',
            "stop",
        )
    )
    assert texts(tr.translate(PAGE, "ja", "ko")) == KO
    assert items_of(openai_api.requests[1]) == {"2": "先生"}


def test_chatter_and_fences_around_the_json(tr, openai_api):
    def chatty(items, ans):
        return (
            f"<think>{{draft}}</think>Sure! Here it is:\n```json\n{json.dumps(ans)}\n```\nEnjoy {{:",
            "stop",
        )

    openai_api.script.append(chatty)
    assert texts(tr.translate(PAGE, "ja", "ko")) == KO
    assert len(openai_api.requests) == 1


def test_echoed_source_is_rejected_then_reported(tr, openai_api):
    echo = lambda items, ans: (json.dumps({**ans, "3": items["3"]}), "stop")  # noqa: E731
    openai_api.script.extend([echo, lambda items, ans: (json.dumps(items), "stop")] * 3)
    out = tr.translate(PAGE, "ja", "ko")
    assert texts(out)[:2] == KO[:2]
    assert out[2].text is None and "untranslated" in (out[2].error or "")
    assert [items_of(r) for r in openai_api.requests][1:] == [{"3": "猫"}]


def test_names_and_numbers_may_stay_as_they_are(tr, openai_api):
    openai_api.script.append(
        lambda items, ans: (json.dumps({**ans, "2": "OK", "3": "100"}), "stop")
    )
    assert texts(tr.translate(["こんにちは", "OK", "100"], "ja", "ko")) == [
        "안녕하세요",
        "OK",
        "100",
    ]
    assert len(openai_api.requests) == 1


def test_wrong_script_is_rejected(tr, openai_api):
    openai_api.script.append(lambda items, ans: (json.dumps({**ans, "1": "Hello there"}), "stop"))
    assert texts(tr.translate(PAGE, "ja", "ko")) == KO
    assert items_of(openai_api.requests[1]) == {"1": "こんにちは"}


def test_truncated_answer_splits_the_batch(tr, openai_api):
    openai_api.max_items = 2
    page = [f"猫{i}" for i in range(7)]
    assert texts(tr.translate(page, "ja", "ko")) == [f"고양이{i}" for i in range(7)]
    sizes = [len(items_of(r)) for r in openai_api.requests]
    assert sizes[0] == 7 and all(s <= 4 for s in sizes[1:])
    assert sorted(s for s in sizes if s <= 2) and len(sizes) <= 9


def test_a_block_that_keeps_failing_is_null_with_reason(tr, openai_api):
    bad = lambda items, ans: (json.dumps({k: v for k, v in ans.items() if k != "2"}), "stop")  # noqa: E731
    openai_api.script.extend([bad] * 10)
    out = tr.translate(PAGE, "ja", "ko")
    assert [out[0].text, out[2].text] == [KO[0], KO[2]]
    assert out[1].text is None and "missing" in (out[1].error or "")
    assert len(openai_api.requests) <= 4


def test_insufficient_quota_is_fatal(tr, openai_api):
    openai_api.quota_exhausted = True
    with pytest.raises(TranslatorError, match="insufficient_quota"):
        tr.translate(PAGE, "ja", "ko")
    assert len(openai_api.requests) == 1


def test_local_server_needs_model_not_key(openai_api, monkeypatch, tmp_path):
    openai_api.key = ""  # an Ollama-like server without auth
    base = f"{openai_api.url}/v1"
    with pytest.raises(TranslatorError, match="--model"):
        OpenAITranslator(TranslatorOptions(name="openai", api_base=base))
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Translate to {target}. JSON only.", encoding="utf-8")
    options = TranslatorOptions(
        name="openai", api_base=base, model=openai_api.model, system_prompt=prompt
    )
    tr = OpenAITranslator(options, retry=FAST)
    assert texts(tr.translate(["猫"], "ja", "ko")) == ["고양이"]
    req = openai_api.requests[0]
    assert "authorization" not in req.headers
    assert req.json()["messages"][0]["content"] == "Translate to Korean. JSON only."


def test_official_endpoint_needs_a_key():
    with pytest.raises(TranslatorError, match="OPENAI_API_KEY"):
        OpenAITranslator(TranslatorOptions(name="openai"))


@pytest.mark.parametrize(
    ("source", "output", "target", "ok"),
    [
        ("猫", "고양이", "ko", True),
        ("猫", "猫", "ko", False),  # echo
        ("東京", "東京", "zh-Hans", True),  # already in the target script
        ("こんにちは", "Hello", "ko", False),
        ("こんにちは", "こんにちは", "en", False),
        ("NASA", "NASA", "ko", True),
        ("ドン!!", "쾅!!", "ko", True),
        ("先生", "Сенсей", "en", False),
    ],
)
def test_script_check(source, output, target, ok):
    assert (llm.script_problem(source, output, target) is None) == ok


def test_parse_answer_unwraps_and_rejects():
    pairs = llm.parse_answer('{"translations": {"1": "a", "2": "b"}}', ["1", "2"])
    assert pairs == [("1", "a"), ("2", "b")]
    with pytest.raises(ValueError):
        llm.parse_answer("I cannot help with that {sorry}", ["1"])
