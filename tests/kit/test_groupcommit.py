"""Group commit: concurrent callers share one run, each gets its own outcome."""

from __future__ import annotations

import asyncio

import pytest

from app.kit.groupcommit import GroupCommit


class Ledger:
    """A stand-in transaction: records each batch it was given, fails on request."""

    def __init__(self, *, fail_batches_with: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_batches_with = fail_batches_with

    async def run(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        await asyncio.sleep(0.01)  # the commit
        if self.fail_batches_with in items and len(items) > 1:
            raise RuntimeError("constraint violated")  # the whole batch rolls back
        return [ValueError(f"bad {i}") if i == self.fail_batches_with else i * 10 for i in items]


async def test_a_lone_caller_runs_at_once_as_a_batch_of_one() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    assert await group(7) == 70
    assert ledger.batches == [[7]]


async def test_callers_queued_together_share_one_run() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    results = await asyncio.gather(*(group(i) for i in range(10)))
    assert results == [i * 10 for i in range(10)]
    assert ledger.batches == [list(range(10))]


async def test_callers_arriving_during_a_run_share_the_next_one() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    first = asyncio.create_task(group(0))
    await asyncio.sleep(0.001)  # its run has started and is committing
    results = await asyncio.gather(*(group(i) for i in range(1, 10)))
    assert await first == 0 and results == [i * 10 for i in range(1, 10)]
    assert ledger.batches == [[0], list(range(1, 10))]


async def test_batches_are_capped() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run, max_batch=4)
    await asyncio.gather(*(group(i) for i in range(10)))
    assert [len(b) for b in ledger.batches] == [4, 4, 2]


async def test_a_failed_batch_is_rerun_item_by_item_so_only_the_bad_item_fails() -> None:
    ledger = Ledger(fail_batches_with=5)
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    outcomes = await asyncio.gather(*(group(i) for i in range(8)), return_exceptions=True)
    assert outcomes[5].__class__ is ValueError
    assert [o for i, o in enumerate(outcomes) if i != 5] == [i * 10 for i in range(8) if i != 5]
    # The batch failed as a whole, then each of its items ran alone.
    assert ledger.batches == [list(range(8)), *([i] for i in range(8))]


async def test_a_cancelled_caller_does_not_break_the_others() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    first = asyncio.create_task(group(1))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(group(i)) for i in (2, 3)]
    await asyncio.sleep(0)
    waiting[0].cancel()
    assert await first == 10
    assert await waiting[1] == 30
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]


async def test_closing_cancels_whoever_still_waits() -> None:
    async def never(items: list[int]) -> list[int | BaseException]:
        await asyncio.Event().wait()
        return []

    group: GroupCommit[int, int] = GroupCommit(never)
    caller = asyncio.create_task(group(1))
    await asyncio.sleep(0.01)
    await group.aclose()
    with pytest.raises(asyncio.CancelledError):
        await caller
