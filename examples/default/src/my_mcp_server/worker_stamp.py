"""`debug_worker_pid`: every result names the worker process that produced it, in its `_meta`.

Off by default. The tests switch it on to prove from the answers alone that the rounds of one
multi-round call were served by different worker processes (or replicas).
"""

import os
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

WORKER_PID_KEY = "my_mcp_server/workerPid"


async def stamp_worker_pid(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext
) -> HandlerResult:
    """Server middleware: adds this process's pid under `_meta` of every dict result."""
    result = await call_next(ctx)
    if isinstance(result, dict):
        meta = result.get("_meta")
        meta = dict(meta) if isinstance(meta, dict) else {}
        result = {**result, "_meta": meta | {WORKER_PID_KEY: os.getpid()}}
    return result
