"""Run py-rattler's coroutines from synchronous code."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Callable


def run_sync(make_coro: Callable):
    """Run the coroutine make_coro() returns, also when an event loop already runs in this
    thread (a notebook). The short pause at the end lets rattler's worker threads drop
    their Python references before the interpreter may exit: without it a process exiting
    right after a solve crashes now and then (py-rattler 0.28)."""

    async def wrapper():
        try:
            return await make_coro()
        finally:
            await asyncio.sleep(0.01)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wrapper())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wrapper()).result()
