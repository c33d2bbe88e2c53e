"""The hand-off between a proctor's answer and the waiting lane: one answer wins, a late one is refused."""

from __future__ import annotations

import asyncio
import threading

from edge.reviews import ReviewAnswer, ReviewBroker

YES = ReviewAnswer(True, "proctor1", "checked the card by hand")


def test_answer_from_another_thread_reaches_the_lane() -> None:
    async def go() -> tuple[bool, ReviewAnswer]:
        broker = ReviewBroker()
        broker.bind(asyncio.get_running_loop())
        future = broker.open("a1")
        delivered = await asyncio.to_thread(broker.resolve, "a1", YES)
        return delivered, await future

    delivered, answer = asyncio.run(go())
    assert delivered is True
    assert answer == YES


def test_exactly_one_of_many_answers_wins() -> None:
    async def go() -> list[bool]:
        broker = ReviewBroker()
        broker.bind(asyncio.get_running_loop())
        broker.open("a1")
        results: list[bool] = []
        threads = [
            threading.Thread(target=lambda n=n: results.append(broker.resolve("a1", ReviewAnswer(True, f"p{n}", "ok"))))
            for n in range(6)
        ]
        await asyncio.gather(*(asyncio.to_thread(t.run) for t in threads))
        return results

    assert sorted(asyncio.run(go())) == [False] * 5 + [True]


def test_an_answer_after_the_timeout_is_refused() -> None:
    async def go() -> bool:
        broker = ReviewBroker()
        broker.bind(asyncio.get_running_loop())
        future = broker.open("a1")
        future.set_result(ReviewAnswer(False, "system", "no proctor decision within the review timeout"))
        return await asyncio.to_thread(broker.resolve, "a1", YES)

    assert asyncio.run(go()) is False


def test_answers_without_who_or_why_and_unknown_attempts_are_refused() -> None:
    async def go() -> tuple[bool, bool, bool]:
        broker = ReviewBroker()
        broker.bind(asyncio.get_running_loop())
        broker.open("a1")
        return (
            broker.resolve("a1", ReviewAnswer(True, " ", "ok")),
            broker.resolve("a1", ReviewAnswer(True, "p", "")),
            broker.resolve("zz", YES),
        )

    assert asyncio.run(go()) == (False, False, False)
