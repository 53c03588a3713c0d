"""The shared HTTP layer: retry bounds, Retry-After, timeouts, the in-flight limit, and keys
never appearing in exceptions, tracebacks or logs — checked through every backend."""

from __future__ import annotations

import logging
import threading
import time
import traceback

import pytest
from fakeapis import FAKES, backend_env, serve
from pydantic import SecretStr

from imgtrans.errors import TranslatorError
from imgtrans.options import TranslatorOptions
from imgtrans.translators import REGISTRY
from imgtrans.translators.http import HttpClient, RetryPolicy, parse_retry_after

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("clean_env")]
FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, total=5.0)
SENTINEL = "SENTINEL-KEY-7f3a9c"


def test_parse_retry_after_forms():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < (parse_retry_after(date) or 0) <= 31


def _client(**kwargs) -> HttpClient:
    return HttpClient("test", secrets=[SecretStr(SENTINEL)], retry=FAST, **kwargs)


def test_5xx_retried_then_success_and_bounded_attempts():
    with serve(FAKES["deepl"](key=SENTINEL)) as api:
        api.fail_next(503, {"message": "busy"}, times=2)
        http = _client(headers={"Authorization": f"DeepL-Auth-Key {SENTINEL}"})
        response = http.request(
            "POST", f"{api.url}/v2/translate", json={"text": ["猫"], "target_lang": "KO"}
        )
        assert response.status_code == 200 and len(api.requests) == 3
        api.fail_next(500, {"message": "down"}, times=10)
        with pytest.raises(TranslatorError, match="after 4 attempt.*HTTP 500 down"):
            http.request("POST", f"{api.url}/v2/translate", json={})
        assert len(api.requests) == 7


def test_retry_after_beyond_the_total_budget_gives_up_at_once():
    with serve(FAKES["deepl"](key=SENTINEL)) as api:
        api.fail_next(429, {"message": "slow down"}, {"Retry-After": "60"})
        start = time.monotonic()
        with pytest.raises(TranslatorError, match="429"):
            _client().request("GET", f"{api.url}/v2/glossaries")
        assert time.monotonic() - start < 1 and len(api.requests) == 1


def test_timeout_is_retried():
    with serve(FAKES["deepl"](key=SENTINEL)) as api:
        api.slow_next.append(0.6)
        http = _client(timeout=0.2, headers={"Authorization": f"DeepL-Auth-Key {SENTINEL}"})
        assert http.request("GET", f"{api.url}/v2/glossaries").status_code == 200
        assert len(api.requests) == 2


def test_requests_in_flight_are_limited():
    with serve(FAKES["deepl"](key=SENTINEL)) as api:
        api.latency = 0.05
        http = _client(max_in_flight=2, headers={"Authorization": f"DeepL-Auth-Key {SENTINEL}"})
        threads = [
            threading.Thread(target=http.request, args=("GET", f"{api.url}/v2/glossaries"))
            for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert api.max_active == 2 and len(api.requests) == 6


@pytest.mark.parametrize("name", sorted(FAKES))
def test_key_never_leaks(name, monkeypatch, caplog):
    """A sentinel key the server rejects (and echoes back in its error): the key must not
    be in the exception, its repr, the traceback, or any log record at DEBUG level."""
    caplog.set_level(logging.DEBUG)
    fake = FAKES[name](key="the-real-key")
    if name == "libretranslate":
        fake.key_required = True
    with serve(fake) as api:
        env = backend_env(name, api)
        for var in env:
            if var.endswith(("_KEY", "_SECRET")):
                env[var] = SENTINEL
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        translator = REGISTRY[name](TranslatorOptions(name=name))
        translator.http.retry = FAST  # type: ignore[attr-defined]
        api.fail_next(503, {"message": f"overloaded for key {SENTINEL}"})
        with pytest.raises(TranslatorError) as info:
            translator.translate(["猫"], "ja", "ko")
        assert any(
            SENTINEL in r.body.decode("utf-8", "replace") + str(r.headers) for r in api.requests
        )
    text = "".join(traceback.format_exception(info.value))
    assert name in str(info.value)
    for where in (str(info.value), repr(info.value), text, caplog.text, repr(translator)):
        assert SENTINEL not in where
