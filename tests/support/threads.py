"""Threads that really race: started together behind a barrier, errors collected."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def run_together(
    target: Callable[..., Any], calls: Sequence[tuple[Any, ...]]
) -> list[BaseException]:
    """Run ``target(*args)`` for each args tuple, each in its own thread, released at once.

    Returns:
        Every exception the calls raised (empty when all succeeded).
    """
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(args: tuple[Any, ...]) -> None:
        barrier.wait()
        try:
            target(*args)
        except BaseException as error:  # reported to the test, which asserts on it
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=run, args=(args,)) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
