"""The ASGI application: /mcp (stateless Streamable HTTP, JSON responses), /healthz, /readyz, /metrics
(or /metrics on its own port: `metrics_port`).

Stateless mode keeps no per-session state in the process, so any replica can serve any
request and the server scales horizontally behind a plain load balancer. JSON responses
(instead of an SSE stream per POST) are the cheapest framing for request/response tools.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.auth.middleware.bearer_auth import RequireAuthMiddleware
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from my_mcp_server import telemetry
from my_mcp_server.fast_calls import FastToolCalls
from my_mcp_server.limits import RequestLimits
from my_mcp_server.resources import Resources
from my_mcp_server.server import build_server
from my_mcp_server.settings import Settings


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    telemetry.setup(settings)
    resources = Resources(settings)
    server = build_server(resources)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
    )
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        host=settings.host,
        transport_security=security,
    )
    if settings.fast_path:
        holder = _mcp_endpoint_holder(app.router.routes)
        endpoint = holder.app
        if not isinstance(endpoint, StreamableHTTPASGIApp):
            raise RuntimeError("this mcp version lays out /mcp differently; set FAST_PATH=false")
        holder.app = FastToolCalls(
            endpoint,
            endpoint.session_manager.app,
            resources,
            TransportSecurityMiddleware(security),
        )

    async def healthz(_: Request) -> JSONResponse:
        """The process is up and its event loop answers."""
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        """Every pool this process needs can serve a request."""
        checks = await resources.check_ready()
        ready = all(checks.values())
        telemetry.record_ready(ready)
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics(_: Request) -> Response:
        """Prometheus exposition (every worker of this process group; see telemetry.py)."""
        body = await asyncio.to_thread(telemetry.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def probe_ready() -> bool:
        return all((await resources.check_ready()).values())

    serve_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[Any]:
        async with (
            serve_lifespan(app) as state,
            telemetry.runtime_monitor(probe_ready),
            telemetry.metrics_listener(settings.host, settings.metrics_port, settings.workers),
        ):
            yield state

    app.router.lifespan_context = lifespan
    app.router.routes.extend([Route("/healthz", healthz), Route("/readyz", readyz)])
    if settings.metrics_port is None:
        app.router.routes.append(Route("/metrics", metrics))
    # Outermost: an oversized or stuck request is cut off before anything else works on it.
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_request_bytes,
        timeout_s=settings.request_timeout_s,
    )
    return app


def _mcp_endpoint_holder(routes: list[BaseRoute]) -> Route | RequireAuthMiddleware:
    """What holds the SDK's /mcp endpoint: the route, or the auth check in front of it.

    The fast path goes right around the endpoint, so authentication still runs first.
    """
    route = next(r for r in routes if isinstance(r, Route) and r.path == "/mcp")
    holder: Route | RequireAuthMiddleware = route
    if isinstance(route.app, RequireAuthMiddleware):
        holder = route.app
    return holder
