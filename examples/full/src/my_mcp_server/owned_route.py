"""`/mcp` answered ahead of Starlette's router.

The route this server exists for is one exact path. Dispatching it here, inside the request
limits, skips the router's matching and the exception middleware's wrapping on every call;
every other path (and `/mcp/`, `/mcp?x` is the same path) still goes through the router.
"""

from starlette.types import ASGIApp, Receive, Scope, Send


class OwnedRoute:
    """ASGI middleware: HTTP requests for `path` go to `endpoint`, everything else to `app`."""

    def __init__(self, app: ASGIApp, *, path: str, endpoint: ASGIApp) -> None:
        self.app = app
        self.path = path
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path:
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)
