"""httpbin as gdhttp's tests run it (scripts/peers.sh): Debian's httpbin app with one change.

httpbin's /bytes/N?seed=S and /stream-bytes/N?seed=S call random.seed(S) on the process-wide
generator and then draw from it. Under gunicorn's gthread workers two such requests served at
once interleave their draws, and each answers bytes that depend on timing, not on its seed: a
test comparing a seeded body with a reference fetched alone then fails for nothing the client
did. Here every thread has its own generator, so a seed gives the same bytes however many
requests run beside it.
"""
import random
import threading

import httpbin.core
from httpbin import app  # noqa: F401 (gunicorn loads gdhttp_httpbin:app)


class _PerThread(threading.local):
    def __init__(self):
        self.rng = random.Random()


class _ThreadRandom:
    """Stands for the random module inside httpbin.core; every call goes to the calling
    thread's generator."""

    _local = _PerThread()

    def __getattr__(self, name):
        return getattr(self._local.rng, name)


httpbin.core.random = _ThreadRandom()
