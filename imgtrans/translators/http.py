"""The HTTP layer every API backend shares: one ``requests.Session``, timeouts, bounded retry
with exponential backoff and jitter (honouring ``Retry-After``), a limit on requests in
flight per backend, and error messages scrubbed of every secret.

Retried: 429, 5xx, timeouts, connection resets. Not retried: 401/403 (auth) and whatever a
backend's ``fatal`` hook recognises as an exhausted quota; those raise
:class:`~imgtrans.errors.TranslatorError` at once. Any other 4xx is returned to the backend,
which knows its API's error shape; 400, 413 and 422 mean "not this content"
(:meth:`HttpClient.rejected`): the backend splits the request to find the text at fault and
fails that text alone, unless the first texts of a run are all refused (then the options are
at fault: :meth:`HttpClient.gave_up_on_text` raises ``TranslatorError``).

:meth:`HttpClient.abort` (SIGTERM, Ctrl-C) abandons the calls in flight: it shuts down the
sockets of every connection the client opened, so a thread blocked on a server that does not
answer wakes at once, and no request or retry starts afterwards.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import os
import random
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from imgtrans.errors import TranslatorError

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# A client error about one request's content (after auth and quota are ruled out).
CONTENT_STATUS = frozenset({400, 413, 422})
# Texts refused one by one, with nothing accepted yet, before the run is given up.
REFUSED_BEFORE_FATAL = 5

FatalHook = Callable[[requests.Response], "str | None"]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Delays in seconds; ``total`` bounds all attempts of one request."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    total: float = 180.0


def secret_from_env(var: str, *, required: bool = True, hint: str = "") -> SecretStr | None:
    """Read a key from the environment as a ``SecretStr`` (its repr is ``'**********'``)."""
    value = os.environ.get(var, "").strip()
    if value:
        return SecretStr(value)
    if required:
        raise TranslatorError(f"set the environment variable {var} (or put it in .env){hint}")
    return None


def env_base(var: str, default: str, override: str | None) -> str:
    """The endpoint: ``--api-base`` wins, then the environment variable, then the default."""
    return (override or os.environ.get(var) or default).rstrip("/")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_detail(response: requests.Response) -> str:
    """A short human message from an error body, whatever its JSON shape."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason or ""
    return _first_message(body)[:300]


def _first_message(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "errorMessage"):
            if key in body:
                return _first_message(body[key])
        return str(body)
    return str(body)


# The client whose request runs on this thread: new connections register with it.
_current = threading.local()


class _Tracked:
    """A urllib3 connection that registers with the client whose request opened it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner: HttpClient | None = getattr(_current, "client", None)
        if owner is not None:
            owner._connections.add(self)


class _TrackedHTTPConnection(_Tracked, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _TrackedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class _TrackingAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _TrackedHTTPPool,
            "https": _TrackedHTTPSPool,
        }


class ContentRejected(Exception):
    """The API refused this request's content (HTTP 400, 413 or 422, not auth or quota):
    a smaller request, or the other texts alone, may pass. The message is scrubbed."""


class HttpClient:
    """One backend's connection: session, retry, in-flight limit, secret scrubbing."""

    def __init__(
        self,
        backend: str,
        *,
        secrets: Iterable[SecretStr | None] = (),
        timeout: float = 60.0,
        max_in_flight: int = 4,
        retry: RetryPolicy | None = None,
        fatal: FatalHook | None = None,
        auth_hint: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.backend = backend
        self._secrets = [s.get_secret_value() for s in secrets if s is not None]
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._fatal = fatal
        self._auth_hint = auth_hint
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._aborted = threading.Event()
        self._count_lock = threading.Lock()
        self._accepted = 0  # 2xx answers so far
        self._refused_alone = 0  # single texts refused (gave_up_on_text)
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self._session = requests.Session()
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, _TrackingAdapter())
        self._session.headers["User-Agent"] = "imgtrans"
        self._session.headers.update(headers or {})

    def __repr__(self) -> str:
        return f"HttpClient({self.backend!r})"

    def scrub(self, text: str) -> str:
        """``text`` with every secret (raw and URL-encoded) replaced by ``***``."""
        for secret in self._secrets:
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, "***")
        return text

    def error(self, message: str, cls: type[TranslatorError] = TranslatorError) -> TranslatorError:
        return cls(self.scrub(f"{self.backend}: {message}"))

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send with retry. Returns a 2xx response or a non-retryable 4xx the backend must
        interpret; raises ``TranslatorError`` on auth/quota failure or when retries run out."""
        deadline = time.monotonic() + self.retry.total
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            response, last = self._attempt(method, url, kwargs)
            self._check_aborted()
            retry_after = None
            if response is not None:
                self._raise_if_fatal(response)
                if response.status_code not in RETRY_STATUS:
                    if response.ok:
                        with self._count_lock:
                            self._accepted += 1
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                last = f"HTTP {response.status_code} {error_detail(response)}".strip()
            delay = self._delay(attempt, retry_after)
            if attempt == self.retry.attempts or time.monotonic() + delay > deadline:
                break
            log.warning(
                "%s: %s; retry %d/%d in %.2f s",
                self.backend,
                self.scrub(last),
                attempt,
                self.retry.attempts - 1,
                delay,
            )
            if self._aborted.wait(delay):
                break
        self._check_aborted()
        raise self.error(f"service unavailable after {attempt} attempt(s): {last}")

    def rejected(self, response: requests.Response) -> ContentRejected | None:
        """A :class:`ContentRejected` for a 400, 413 or 422 answer, else None."""
        if response.status_code not in CONTENT_STATUS:
            return None
        detail = error_detail(response)
        return ContentRejected(self.scrub(f"{self.backend}: HTTP {response.status_code}: {detail}"))

    def gave_up_on_text(self, reason: str) -> None:
        """Note a text refused even alone (it fails alone). When the first
        ``REFUSED_BEFORE_FATAL`` texts of a run were all refused and nothing was accepted, the
        fault is the configuration (language, glossary, endpoint): raise ``TranslatorError``."""
        with self._count_lock:
            self._refused_alone += 1
            fatal = self._accepted == 0 and self._refused_alone >= REFUSED_BEFORE_FATAL
        if fatal:
            raise self.error(f"every request was refused, check the options ({reason})")

    def close(self) -> None:
        self._session.close()

    def abort(self) -> None:
        """Abandon every call in flight and refuse new ones (the run is being stopped).
        Safe from any thread; the threads blocked in a request return within moments."""
        self._aborted.set()
        for conn in list(self._connections):
            sock = getattr(conn, "sock", None)
            if sock is None:
                continue
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def _check_aborted(self) -> None:
        if self._aborted.is_set():
            raise self.error("stopped: the run was interrupted")

    def _attempt(
        self, method: str, url: str, kwargs: dict[str, Any]
    ) -> tuple[requests.Response | None, str]:
        with self._slots:
            self._check_aborted()
            _current.client = self
            try:
                return self._session.request(method, url, timeout=self.timeout, **kwargs), ""
            except requests.Timeout:
                return None, f"no answer within {self.timeout:g} s"
            except requests.ConnectionError as exc:
                # str(exc) may hold the URL; scrubbed when it is logged or raised.
                return None, f"connection failed ({type(exc).__name__}: {exc})"
            except requests.RequestException as exc:
                self._check_aborted()
                raise self.error(f"request failed: {type(exc).__name__}: {exc}") from None
            finally:
                _current.client = None

    def _raise_if_fatal(self, response: requests.Response) -> None:
        if self._fatal is not None:
            message = self._fatal(response)
            if message:
                raise self.error(message)
        if response.status_code in (401, 403):
            detail = error_detail(response)
            raise self.error(
                f"authentication failed (HTTP {response.status_code}: {detail}){self._auth_hint}"
            )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after + random.uniform(0, 0.1 * retry_after)
        cap = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)
