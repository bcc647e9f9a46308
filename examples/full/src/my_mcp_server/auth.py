"""Bearer-token authentication on the HTTP transport, through the SDK's `TokenVerifier` hook."""

import hmac

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from pydantic import AnyHttpUrl
from starlette.types import ASGIApp

from my_mcp_server.auth_guard import require_token
from my_mcp_server.settings import Settings


class StaticTokenVerifier:
    """Accepts the tokens listed in `auth_tokens` (comma-separated), compared in constant time."""

    def __init__(self, tokens: str) -> None:
        self._tokens = [t.strip().encode() for t in tokens.split(",") if t.strip()]

    async def verify_token(self, token: str) -> AccessToken | None:
        candidate = token.encode()
        # Check every token, so timing says nothing about which one (if any) matched.
        matched = False
        for known in self._tokens:
            matched |= hmac.compare_digest(candidate, known)
        if not matched:
            return None
        return AccessToken(token=token, client_id="static-token", scopes=[])


class BearerAuth:
    """The verifier and auth settings the SDK is given, and the same check for our own routes."""

    def __init__(self, settings: Settings) -> None:
        self.verifier = StaticTokenVerifier(settings.auth_tokens.get_secret_value())
        self.settings = AuthSettings(
            issuer_url=AnyHttpUrl(settings.auth_issuer_url),
            resource_server_url=AnyHttpUrl(settings.auth_resource_url),
            required_scopes=settings.auth_required_scopes,
            # The static verifier checks the token itself; there is no resource claim to match.
            validate_token_resource=False,
        )

    def protect(self, app: ASGIApp) -> ASGIApp:
        """`app` behind the token check the SDK applies on its own `/mcp` route."""
        return require_token(app, self.verifier, self.settings)
