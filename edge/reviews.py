"""Where the lane waits for a proctor: one pending review at a time per lane, resolved from the API or a command."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ReviewAnswer:
    approved: bool
    operator: str
    reason: str


class ReviewBroker:
    """Thread-safe hand-off between whoever resolves a review (API thread, demo script) and the lane's event loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[str, asyncio.Future[ReviewAnswer]] = {}
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def open(self, attempt_id: str) -> asyncio.Future[ReviewAnswer]:
        future: asyncio.Future[ReviewAnswer] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._pending[attempt_id] = future
        return future

    def close(self, attempt_id: str) -> None:
        with self._lock:
            self._pending.pop(attempt_id, None)
            self._claimed.discard(attempt_id)

    def pending(self) -> list[str]:
        with self._lock:
            return [a for a in self._pending if a not in self._claimed]

    def resolve(self, attempt_id: str, answer: ReviewAnswer) -> bool:
        """Deliver a proctor's answer. Exactly one caller wins; False when the lane is not (or no longer) waiting,
        or the answer lacks who or why (every review is logged with both)."""
        if not answer.operator.strip() or not answer.reason.strip():
            return False
        with self._lock:
            future = self._pending.get(attempt_id)
            if future is None or self._loop is None or attempt_id in self._claimed:
                return False
            self._claimed.add(attempt_id)

        loop = self._loop

        def deliver() -> bool:
            if future.done():  # the review timed out (or the gate is stopping) first: the answer did not take effect
                return False
            future.set_result(answer)
            return True

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:  # called on the lane's own loop (the API runs there): deliver now
            return deliver()

        async def deliver_on_loop() -> bool:
            return deliver()

        try:
            return asyncio.run_coroutine_threadsafe(deliver_on_loop(), loop).result(timeout=5.0)
        except (TimeoutError, RuntimeError):  # loop stopped or stuck: the answer cannot be said to have taken effect
            return False
