"""Local stand-ins for the translation APIs, on 127.0.0.1, for tests (no internet, no mocks).

Each ``Fake*`` implements its API's request/response contract as documented — paths, auth
headers, JSON shapes, batch limits and error bodies — and "translates" with a small fixed
dictionary (:func:`fake_mt`) so results can be checked. Every request is recorded in
``api.requests``; ``api.fail_next(status, body, headers, times)`` queues error answers.

This module holds the server plumbing and the fake translation; the APIs are in
``fakeapis.mt`` and ``fakeapis.llm``, the fixtures in ``fakeapis/__init__.py``.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# target language (first two letters, lower case) -> source phrase -> translation
WORDS: dict[str, dict[str, str]] = {
    "ko": {
        "こんにちは": "안녕하세요",
        "先生": "선생님",
        "田中": "다나카",
        "ありがとう": "고마워요",
        "猫": "고양이",
        "世界": "세계",
        "いい天気": "좋은 날씨",
        "Hello": "안녕",
    },
    "en": {
        "こんにちは": "Hello",
        "先生": "teacher",
        "田中": "Tanaka",
        "ありがとう": "Thank you",
        "猫": "cat",
        "世界": "world",
        "いい天気": "nice weather",
        "안녕하세요": "Hello",
    },
    "zh": {"こんにちは": "你好", "先生": "老师", "ありがとう": "谢谢", "猫": "猫咪"},
}
Reply = tuple[int, dict[str, str], Any]


def fake_mt(text: str, target: str, glossary: dict[str, str] | None = None) -> str:
    """Apply ``glossary`` then known phrases (longest first); a text that neither changed
    gets a ``<target>:`` prefix, so every answer differs from its source."""
    out = text
    for table in (glossary or {}, WORDS.get(target[:2].lower(), {})):
        for src in sorted(table, key=len, reverse=True):
            out = out.replace(src, table[src])
    return out if out != text or not text else f"{target}:{text}"


def fake_mt_markup(text: str, target: str, keep: str) -> str:
    """Translate HTML/XML outside the do-not-translate element named by ``keep`` (a regex)."""
    parts = re.split(f"({keep})", text)
    out = []
    for part in parts:
        if re.fullmatch(keep, part):
            out.append(part)
        elif part:
            out.append(html.escape(fake_mt(html.unescape(part), target), quote=False))
    return "".join(out)


@dataclass
class Seen:
    """One recorded request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeApi:
    key: str = "test-key"
    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    faults: deque[Reply] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: float = 0.0  # seconds every request takes
    slow_next: deque[float] = field(default_factory=deque)  # extra seconds for the next ones
    active: int = 0
    max_active: int = 0  # most requests in flight at once

    def fail_next(
        self, status: int, body: Any, headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        for _ in range(times):
            self.faults.append((status, headers or {}, body))

    def calls(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def dispatch(self, seen: Seen) -> Reply:
        with self.lock:
            self.requests.append(seen)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            wait = self.latency + (self.slow_next.popleft() if self.slow_next else 0.0)
        try:
            time.sleep(wait)
            with self.lock:
                fault = self.faults.popleft() if self.faults else None
            return fault if fault is not None else self.handle(seen)
        finally:
            with self.lock:
                self.active -= 1

    def handle(self, seen: Seen) -> Reply:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            self.command,
            parts.path,
            parse_qs(parts.query),
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(length),
        )
        api: FakeApi = self.server.api  # type: ignore[attr-defined]
        status, headers, body = api.dispatch(seen)
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        try:
            self._reply(status, headers, data)
        except OSError:  # the client gave up waiting (timeout tests)
            self.close_connection = True

    def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@contextmanager
def serve(api: FakeApi) -> Iterator[FakeApi]:
    """Run ``api`` on 127.0.0.1 (a free port) in a thread; ``api.url`` is its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.api = api  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
