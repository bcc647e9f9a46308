"""The ASGI application the project owns: /mcp, /healthz, /readyz, /metrics (or /metrics on its own
port: `metrics_port`).

It is composed as the SDK documents for a host application: the SDK's Streamable HTTP app
(stateless, JSON responses) is mounted, and its session manager runs in this app's lifespan,
together with the resources and the runtime monitors. With `fast_path` on (the default), the
owned tools/call executor (call_executor.py) takes `/mcp` first and hands whatever it does not
serve to the session manager; the route it sits on has the same token check the SDK puts on
its own `/mcp`.

Stateless mode keeps no per-session state in the process, so any replica can serve any request
and the server scales horizontally behind a plain load balancer. JSON responses (instead of an
SSE stream per POST) are the cheapest framing for request/response tools.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from my_mcp_server import (
    runtime_gauges,
    runtime_metrics,
    telemetry,
    worker_metrics,
)
from my_mcp_server.auth import BearerAuth
from my_mcp_server.call_executor import ToolCallExecutor
from my_mcp_server.limits import RequestLimits
from my_mcp_server.owned_route import AppWithOwnedRoute
from my_mcp_server.resources import Resources
from my_mcp_server.server import build_server
from my_mcp_server.settings import Settings


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> Starlette:
    """The app for `settings` (default: from the environment), serving from `resources` built for
    the same settings (default: the production pools and caches)."""
    settings = settings or Settings()
    telemetry.setup(settings)
    runtime_metrics.install(settings.tracemalloc_frames)
    resources = resources or Resources(settings)
    auth = BearerAuth(settings)
    server = build_server(resources, auth)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
    )
    sdk_app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        host=settings.host,
        transport_security=security,
        max_request_body_size=settings.max_request_bytes,
    )

    async def healthz(_: Request) -> JSONResponse:
        """The process is up and its event loop answers."""
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        """Every pool this process needs can serve a request."""
        checks = await resources.check_ready()
        ready = all(checks.values())
        runtime_gauges.record_ready(ready)
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics(_: Request) -> Response:
        """Prometheus exposition (every worker of this process group; see worker_metrics.py)."""
        body = await asyncio.to_thread(worker_metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def probe_ready() -> bool:
        return all((await resources.check_ready()).values())

    # What answers /mcp in front of the mount: the executor, or (none) the mount itself.
    endpoint: ASGIApp | None = None
    if settings.fast_path:
        executor = ToolCallExecutor(
            server,
            resources,
            fallback=server.session_manager.handle_request,
            security=security,
            # The server serves no subscriptions/listen, so what tools publish reaches no one,
            # on either path: a bus of the executor's own is the same as the SDK's internal one.
            subscriptions=InMemorySubscriptionBus(),
            max_body_bytes=settings.max_request_bytes,
            tracing=telemetry.tracing_enabled,
        )
        if executor.enabled:
            endpoint = executor
    routes: list[BaseRoute] = []
    endpoint = None if endpoint is None else auth.protect(endpoint)
    routes += [Route("/healthz", healthz), Route("/readyz", readyz)]
    if settings.metrics_port is None:
        routes.append(Route("/metrics", metrics))
    routes.append(Mount("/", app=sdk_app))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with (
            server.session_manager.run(),  # enters the server's lifespan: opens `resources`
            runtime_gauges.runtime_monitor(probe_ready, enabled=settings.telemetry_enabled),
            worker_metrics.snapshot_writer(),
            runtime_metrics.memory_snapshots(settings.memory_snapshot_dir),
            worker_metrics.metrics_listener(settings.host, settings.metrics_port, settings.workers),
            runtime_metrics.startup_heap_frozen(),
        ):
            yield

    def limited(app: ASGIApp) -> ASGIApp:
        """`app` behind the request limits: outermost on every route, an oversized or stuck
        request is cut off before anything else works on it."""
        return RequestLimits(
            app, max_body_bytes=settings.max_request_bytes, timeout_s=settings.request_timeout_s
        )

    # /mcp is answered ahead of Starlette's middleware and router (so before the mount: the
    # SDK's own /mcp route sees only what this endpoint hands on), with limits of its own.
    return AppWithOwnedRoute(
        owned_path="/mcp",
        owned=None if endpoint is None else limited(endpoint),
        routes=routes,
        middleware=[Middleware(limited)],
        lifespan=lifespan,
    )
