"""Fake translation APIs on 127.0.0.1 and pytest fixtures that start them.

Fixtures (use ``pytest_plugins = ["fakeapis"]`` in a test module): ``deepl_api``,
``google_api``, ``papago_api``, ``microsoft_api``, ``libre_api``, ``openai_api``; each yields
the running fake (``.url``, ``.key``, ``.requests``). For a CLI test, point the backend at it
through the environment, e.g. ``DEEPL_API_BASE=deepl_api.url``, ``DEEPL_API_KEY=deepl_api.key``
or ``--api-base {openai_api.url}/v1 --model {openai_api.model}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeapis.core import WORDS, FakeApi, Seen, fake_mt, serve
from fakeapis.llm import FakeOpenAI
from fakeapis.mt import FakeDeepL, FakeGoogle, FakeLibre, FakeMicrosoft, FakePapago

__all__ = [
    "WORDS",
    "FakeApi",
    "FakeDeepL",
    "FakeGoogle",
    "FakeLibre",
    "FakeMicrosoft",
    "FakeOpenAI",
    "FakePapago",
    "Seen",
    "fake_mt",
    "serve",
]


def backend_env(name: str, api: FakeApi) -> dict[str, str]:
    """The environment variables that point backend ``name`` at the running fake ``api``."""
    if name == "deepl":
        return {"DEEPL_API_KEY": api.key, "DEEPL_API_BASE": api.url}
    if name == "google":
        return {"GOOGLE_API_KEY": api.key, "GOOGLE_API_BASE": api.url}
    if name == "papago":
        assert isinstance(api, FakePapago)
        return {
            "PAPAGO_CLIENT_ID": api.client_id,
            "PAPAGO_CLIENT_SECRET": api.key,
            "PAPAGO_API_BASE": api.url,
        }
    if name == "microsoft":
        assert isinstance(api, FakeMicrosoft)
        return {
            "MICROSOFT_TRANSLATOR_KEY": api.key,
            "MICROSOFT_TRANSLATOR_REGION": api.region or "",
            "MICROSOFT_TRANSLATOR_API_BASE": api.url,
        }
    if name == "libretranslate":
        return {"LIBRETRANSLATE_API_KEY": api.key, "LIBRETRANSLATE_API_BASE": api.url}
    if name == "openai":
        assert isinstance(api, FakeOpenAI)
        return {
            "OPENAI_API_KEY": api.key,
            "OPENAI_API_BASE": f"{api.url}/v1",
            "OPENAI_MODEL": api.model,
        }
    raise KeyError(name)


FAKES = {
    "deepl": FakeDeepL,
    "google": FakeGoogle,
    "papago": FakePapago,
    "microsoft": FakeMicrosoft,
    "libretranslate": FakeLibre,
    "openai": FakeOpenAI,
}


@pytest.fixture
def deepl_api() -> Iterator[FakeDeepL]:
    with serve(FakeDeepL(key="deepl-test-key:fx")) as api:
        yield api


@pytest.fixture
def google_api() -> Iterator[FakeGoogle]:
    with serve(FakeGoogle(key="google-test-key")) as api:
        yield api


@pytest.fixture
def papago_api() -> Iterator[FakePapago]:
    with serve(FakePapago(key="papago-test-secret", client_id="papago-test-id")) as api:
        yield api


@pytest.fixture
def microsoft_api() -> Iterator[FakeMicrosoft]:
    with serve(FakeMicrosoft(key="ms-test-key", region="westeurope")) as api:
        yield api


@pytest.fixture
def libre_api() -> Iterator[FakeLibre]:
    with serve(FakeLibre(key="libre-test-key")) as api:
        yield api


@pytest.fixture
def openai_api() -> Iterator[FakeOpenAI]:
    with serve(FakeOpenAI(key="openai-test-key")) as api:
        yield api


TRANSLATOR_ENV = [
    "DEEPL_API_KEY",
    "DEEPL_API_BASE",
    "DEEPL_FORMALITY",
    "GOOGLE_API_KEY",
    "GOOGLE_API_BASE",
    "PAPAGO_CLIENT_ID",
    "PAPAGO_CLIENT_SECRET",
    "PAPAGO_API_BASE",
    "PAPAGO_GLOSSARY_KEY",
    "PAPAGO_HONORIFIC",
    "MICROSOFT_TRANSLATOR_KEY",
    "MICROSOFT_TRANSLATOR_REGION",
    "MICROSOFT_TRANSLATOR_API_BASE",
    "LIBRETRANSLATE_API_KEY",
    "LIBRETRANSLATE_API_BASE",
    "LIBRETRANSLATE_CHAR_LIMIT",
    "OPENAI_API_KEY",
    "OPENAI_API_BASE",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "IMGTRANS_LLM_JSON_SCHEMA",
    "IMGTRANS_LLM_MAX_IN_FLIGHT",
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No translator settings from the host; the translation cache in a temporary folder."""
    for var in TRANSLATOR_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("IMGTRANS_CACHE_DIR", str(tmp_path / "cache"))
