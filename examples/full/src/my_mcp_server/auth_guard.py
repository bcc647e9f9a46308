"""The token check in front of `/mcp`, built from the SDK's public auth pieces.

The SDK puts the same three in front of its own `/mcp` route (`BearerAuthBackend` in Starlette's
`AuthenticationMiddleware`, `AuthContextMiddleware`, `RequireAuthMiddleware`); the app puts them
in front of the route it owns, so the tools/call executor and the SDK's entry behind it admit and
refuse exactly the same requests (401 with `resource_metadata`, 403 for a missing scope).
"""

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.types import ASGIApp


def require_token(app: ASGIApp, verifier: TokenVerifier, auth: AuthSettings) -> ASGIApp:
    """`app` behind the checks the SDK puts in front of its `/mcp` route."""
    resource_url = auth.resource_server_url
    required = RequireAuthMiddleware(
        app,
        auth.required_scopes or [],
        build_resource_metadata_url(resource_url) if resource_url else None,
    )
    backend = BearerAuthBackend(
        verifier, resource_server_url=resource_url if auth.validate_token_resource else None
    )
    return AuthenticationMiddleware(AuthContextMiddleware(required), backend=backend)
