"""A SQLite translation cache: a rerun of the same folder makes zero requests.

One table, keyed by sha256 of (backend and model, source, target, glossary digest, text).
It lives in the user cache dir (``IMGTRANS_CACHE_DIR`` overrides) and is shared by threads
through one connection behind a lock. Only successful translations are stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import platformdirs

from imgtrans.errors import TranslatorError
from imgtrans.translators.base import ContextPair, Translation, Translator
from imgtrans.translators.langs import canonical

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    target TEXT NOT NULL,
    translation TEXT NOT NULL,
    created REAL NOT NULL
)"""


def default_cache_dir() -> Path:
    override = os.environ.get("IMGTRANS_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("imgtrans"))


def cache_key(backend: str, source: str, target: str, glossary: str, text: str) -> str:
    """``backend`` is the translator's ``describe()`` (name and model)."""
    parts = [backend, canonical(source), canonical(target), glossary, text]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


class TranslationCache:
    """Thread-safe key -> translation store. Opened on first use."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_dir() / "translations.sqlite3"
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
                conn.commit()
            except (OSError, sqlite3.Error) as exc:
                raise TranslatorError(
                    f"cannot open the translation cache {self.path}: {exc} "
                    "(set IMGTRANS_CACHE_DIR or use --no-cache)"
                ) from None
            self._conn = conn
        return self._conn

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        with self._lock:
            conn = self._connect()
            found: dict[str, str] = {}
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT key, translation FROM translations WHERE key IN ({marks})", chunk
                )
                found.update(rows.fetchall())
            return found

    def put_many(self, items: Mapping[str, tuple[str, str, str]]) -> None:
        """``items``: key -> (backend, target, translation)."""
        if not items:
            return
        now = time.time()
        rows = [(k, b, t, tr, now) for k, (b, t, tr) in items.items()]
        with self._lock:
            conn = self._connect()
            conn.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?)", rows)
            conn.commit()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class CachedTranslator(Translator):
    """Wraps a backend: texts found in the cache are not sent; new successes are stored."""

    def __init__(self, inner: Translator, cache: TranslationCache, glossary_digest: str) -> None:
        self.inner = inner
        self.name = inner.name
        self.cache = cache
        self.glossary_digest = glossary_digest

    def describe(self) -> str:
        return self.inner.describe()

    def check_pair(self, source: str, target: str) -> None:
        self.inner.check_pair(source, target)

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        backend = self.inner.describe()
        keys = [cache_key(backend, source, target, self.glossary_digest, t) for t in texts]
        hits = self.cache.get_many(sorted(set(keys)))
        todo = [i for i, k in enumerate(keys) if k not in hits]
        results: list[Translation | None] = [
            Translation(hits[k]) if k in hits else None for k in keys
        ]
        if todo:
            log.debug("%s: %d cached, %d to translate", backend, len(texts) - len(todo), len(todo))
            got = self.inner.translate([texts[i] for i in todo], source, target, context)
            new: dict[str, tuple[str, str, str]] = {}
            for i, result in zip(todo, got, strict=True):
                results[i] = result
                if result.text is not None:
                    new[keys[i]] = (backend, canonical(target), result.text)
            self.cache.put_many(new)
        return [r for r in results if r is not None]

    def close(self) -> None:
        self.inner.close()
        self.cache.close()

    def abort(self) -> None:
        self.inner.abort()
