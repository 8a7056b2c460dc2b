"""One worker thread for the engine, with hand-offs batched.

asyncio's run_in_executor costs a thread wake-up and a trip back to the loop for every
call; under load those hand-offs (and the GIL passing to and fro with them) cost more CPU
than the steps themselves (bench/throughput.py, profiled with py-spy). Here calls made
while the worker is busy queue up; it runs them all on its next turn, in the order they
were made, and hands their results back to the loop in one callback: as soon as the
oldest of them has waited FLUSH_AFTER, so a quick step is never held back for long by a
slower one after it in the same turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_BATCH = 32  # calls per turn
FLUSH_AFTER = 0.001  # seconds a finished call's result may wait for the rest of its turn

_Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any] | None"]
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


class Worker:
    def __init__(self, name: str = "engine"):
        self._ready = threading.Condition()
        self._pending: list[_Call] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run fn(*args) on the worker thread, after every call made before it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the worker is closed")
            self._loop = loop
            self._pending.append((fn, args, future))
            self._ready.notify()
        return future

    def close(self, last: Callable[[], object] | None = None) -> None:
        """Run the calls already queued, then `last`, on the worker; then stop it."""
        with self._ready:
            if not self._closed:
                if last is not None:
                    self._pending.append((last, (), None))
                self._closed = True
                self._ready.notify()
        self._thread.join()

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait()
                if not self._pending:
                    return  # closed, and nothing left
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                loop = self._loop
            outcomes: list[_Outcome] = []
            oldest = 0.0
            for fn, args, future in batch:
                if outcomes and time.perf_counter() - oldest >= FLUSH_AFTER:
                    self._hand_back(loop, outcomes)
                    outcomes = []
                try:
                    result, error = fn(*args), None
                except Exception as exc:  # handed to the caller, as run_in_executor does
                    result, error = None, exc
                if future is not None:
                    if not outcomes:
                        oldest = time.perf_counter()
                    outcomes.append((future, result, error))
                elif error is not None:
                    log.error("a call on the %s thread failed: %s", threading.current_thread().name,
                              type(error).__name__, exc_info=error)
            self._hand_back(loop, outcomes)

    @staticmethod
    def _hand_back(loop: asyncio.AbstractEventLoop | None, outcomes: list[_Outcome]) -> None:
        if outcomes and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile: nobody waits
                loop.call_soon_threadsafe(_settle, outcomes)


def _settle(outcomes: list[_Outcome]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
