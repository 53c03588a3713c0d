"""A fake OpenAI-compatible ``POST /chat/completions`` server (OpenAI, Ollama, vLLM...).

It reads the items out of imgtrans's user message (the JSON before the closing
instruction), "translates" them with :func:`fake_mt`, and answers like a chat model. Tests
change the answer through ``api.script``: a queue of ``fn(items, answer) -> (content,
finish_reason)`` used one per request; with the queue empty the answer is the plain JSON.
``supports_schema=False`` makes it reject ``response_format`` the way servers do;
``max_items`` cuts the answer off (``finish_reason: "length"``) for larger batches.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fakeapis.core import FakeApi, Reply, Seen, fake_mt

NAMES = {"Korean": "ko", "English": "en", "Japanese": "ja", "Simplified Chinese": "zh-Hans"}
Script = Callable[[dict[str, str], dict[str, str]], tuple[str, str]]


def _error(
    status: int, message: str, type_: str, code: str | None, param: str | None = None
) -> Reply:
    return status, {}, {"error": {"message": message, "type": type_, "param": param, "code": code}}


@dataclass
class FakeOpenAI(FakeApi):
    model: str = "fake-model"
    supports_schema: bool = True
    max_items: int = 10**6
    quota_exhausted: bool = False
    script: deque[Script] = field(default_factory=deque)

    def handle(self, seen: Seen) -> Reply:
        if self.key and seen.headers.get("authorization") != f"Bearer {self.key}":
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        if seen.path != "/v1/chat/completions" or seen.method != "POST":
            return _error(404, "Not found", "invalid_request_error", None)
        if self.quota_exhausted:
            return _error(
                429, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"
            )
        body = seen.json()
        if body.get("model") != self.model:
            return _error(
                404,
                f"The model `{body.get('model')}` does not exist",
                "invalid_request_error",
                "model_not_found",
            )
        if "response_format" in body and not self.supports_schema:
            return _error(
                400,
                "response_format json_schema is not supported",
                "invalid_request_error",
                None,
                "response_format",
            )
        payload, _ = json.JSONDecoder().raw_decode(body["messages"][-1]["content"])
        items = {item["id"]: item["text"] for item in payload["items"]}
        target = NAMES.get(payload["target_language"], "xx")
        answer = {i: self._translate(t, target, payload) for i, t in items.items()}
        if self.script:
            content, finish = self.script.popleft()(items, answer)
        elif len(items) > self.max_items:
            full = json.dumps(answer, ensure_ascii=False)
            content, finish = full[: len(full) // 2], "length"
        else:
            content, finish = json.dumps(answer, ensure_ascii=False), "stop"
        return (
            200,
            {},
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": finish,
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            },
        )

    @staticmethod
    def _translate(text: str, target: str, payload: dict[str, Any]) -> str:
        terms = {t["source"]: t["target"] for t in payload.get("glossary", [])}
        return fake_mt(text, target, terms)  # a model that follows the glossary
