"""`/mcp` answered ahead of Starlette's whole middleware stack.

The route this server exists for is one exact path. `AppWithOwnedRoute` hands HTTP requests for
it straight to the ASGI app given for it (which carries its own request limits: see app.py), so
every call skips Starlette's error middleware, the app-wide middleware and the router's matching;
every other path (and `/mcp/`, `/mcp?x` is the same path) and the lifespan go through Starlette
as usual. An unhandled exception on the owned path reaches the server, which answers 500 as
Starlette's error middleware would.
"""

from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send


class AppWithOwnedRoute(Starlette):
    """A Starlette app that answers HTTP requests for `owned_path` with `owned` (None: itself)."""

    def __init__(self, *, owned_path: str, owned: ASGIApp | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owned_path = owned_path
        self.owned = owned

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.owned is not None and scope["type"] == "http" and scope["path"] == self.owned_path:
            scope["app"] = self  # as Starlette sets it for its routes
            await self.owned(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)
