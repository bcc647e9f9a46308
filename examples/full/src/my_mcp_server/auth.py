"""Bearer-token verification for the HTTP transport, through the SDK's `TokenVerifier` hook."""

import hmac

from mcp.server.auth.provider import AccessToken


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
