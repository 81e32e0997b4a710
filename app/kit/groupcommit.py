"""Group commit: the small transactions of concurrent callers, run as one.

A caller queues its item and waits for its own result. One drain task runs whatever has queued
as a single batch (one transaction, set-based statements), and the next batch gathers behind it
while that one commits. Nothing waits on a timer: a lone caller runs at once, as a batch of one;
batches only grow when callers arrive faster than the database answers.

`run(items)` returns one result per item, in order; a result that is an exception is raised to
that item's caller alone. A batch that fails as a whole (a constraint, a lost connection) rolled
back, so it is run again one item at a time: a bad item fails alone, the others still succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Run = Callable[[list[T]], Awaitable[list[R | BaseException]]]


class GroupCommit(Generic[T, R]):
    def __init__(self, run: Run[T, R], *, max_batch: int = 64) -> None:
        self._run, self.max_batch = run, max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._drain: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drain is None or self._drain.done():
            self._drain = asyncio.create_task(self._drain_queue())
        return await future

    async def _drain_queue(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                for (_, future), result in zip(batch, await self._outcomes(batch), strict=True):
                    _settle(future, result)
        finally:  # cancelled (shutdown): nobody may wait forever
            for _, future in batch + self._queue:
                future.cancel()

    async def _outcomes(self, batch: list[tuple[T, asyncio.Future[R]]]) -> list[R | BaseException]:
        items = [item for item, _ in batch]
        try:
            return await self._run(items)
        except Exception as exc:
            if len(items) == 1:
                return [exc]
        outcomes: list[R | BaseException] = []
        for item in items:
            try:
                outcomes.extend(await self._run([item]))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def aclose(self) -> None:
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain


def _settle(future: asyncio.Future[R], result: R | BaseException) -> None:
    if future.done():  # the caller was cancelled meanwhile
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
