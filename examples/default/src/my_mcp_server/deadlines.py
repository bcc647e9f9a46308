"""Request deadlines on one loop timer: `asyncio.timeout`'s cancellation, without a timer each.

`asyncio.timeout` schedules and cancels a loop timer for every request. Here every request has
the same timeout, so deadlines fall due in the order the requests began: one timer walks them
oldest first, cancels the task of each that is due, and stops at the first that is not. While
requests are in flight it is re-armed for the oldest deadline, but at most once a tick (a tenth
of the timeout), so a deadline fires at most one tick late.

The cancellation is `asyncio.timeout`'s own protocol: the task is cancelled, and the
`CancelledError` is this deadline's (a timeout) only if uncancelling leaves no other
cancellation request standing (one from uvicorn at shutdown, say).
"""

from __future__ import annotations

import asyncio


class Deadline:
    """One request's deadline: its task, when it falls due, and whether it fired."""

    __slots__ = ("at", "cancelling", "fired", "task")

    def __init__(self, task: asyncio.Task[object], at: float) -> None:
        self.task = task
        self.at = at
        self.cancelling = task.cancelling()  # cancellation requests already standing
        self.fired = False

    def fire(self) -> None:
        self.fired = True
        self.task.cancel()

    def settle(self) -> bool:
        """True if it fired and its cancellation is the only one standing; uncancels once."""
        if not self.fired:
            return False
        self.fired = False
        return self.task.uncancel() <= self.cancelling


class Deadlines:
    """Deadlines `timeout_s` after each `start`, in the running event loop."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.tick_s = timeout_s / 10
        # Insertion order is deadline order (one timeout for all): a dict as an ordered set.
        self._pending: dict[Deadline, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> Deadline:
        """A deadline for the current task; `stop` it when the request ends, however it ends."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("Deadlines.start() outside a task")
        deadline = Deadline(task, loop.time() + self.timeout_s)
        self._pending[deadline] = None
        if self._timer is None or self._loop is not loop:  # idle, or a new loop (tests)
            if self._timer is not None:
                self._timer.cancel()  # the old loop's timer would walk this loop's deadlines
            self._loop = loop
            self._timer = loop.call_at(deadline.at, self._expire)
        return deadline

    def stop(self, deadline: Deadline) -> bool:
        """Forget `deadline`; True if it fired and its cancellation is the only one standing.

        Idempotent: a fired deadline is uncancelled once, as `asyncio.timeout` does on exit.
        """
        self._pending.pop(deadline, None)
        return deadline.settle()

    def _expire(self) -> None:
        loop = self._loop
        assert loop is not None
        now = loop.time()
        due = []
        for deadline in self._pending:
            if deadline.at > now:
                break  # nothing after it is due either
            due.append(deadline)
        for deadline in due:
            del self._pending[deadline]
            if deadline.task.get_loop() is loop:  # one left behind by a closed loop: drop it
                deadline.fire()
        oldest = next(iter(self._pending), None)
        if oldest is None:
            self._timer = None
            return
        # Re-armed for the oldest deadline still pending, no sooner than a tick from now.
        self._timer = loop.call_at(max(oldest.at, now + self.tick_s), self._expire)
