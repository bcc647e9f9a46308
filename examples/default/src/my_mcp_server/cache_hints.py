"""MCP result freshness hints (`ttlMs` / `cacheScope`, protocol revision 2026-07-28).

Clients may reuse a result for `ttlMs` without asking again. The tool list changes only with a
deploy; an item read through `item://{key}` is as fresh as the server's own cache, so
it gets the same TTL. Scope is private when results depend on who asks (auth), else public.
Tool-call results carry no hint in this protocol revision: a client that wants to cache a read
uses the resource.
"""

from typing import Literal

from mcp.server.caching import CacheHint
from mcp_types.methods import CacheableMethod

from my_mcp_server.settings import Settings

TOOL_LIST_TTL_MS = 5 * 60 * 1000


def cache_hints(settings: Settings) -> dict[CacheableMethod, CacheHint]:
    scope: Literal["public", "private"] = "public"
    hints: dict[CacheableMethod, CacheHint] = {
        "tools/list": CacheHint(ttl_ms=TOOL_LIST_TTL_MS, scope=scope),
    }
    if settings.cache_enabled:
        hints["resources/read"] = CacheHint(ttl_ms=int(settings.cache_ttl_s * 1000), scope=scope)
    return hints
