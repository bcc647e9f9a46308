"""The key that seals multi-round `requestState`, from the settings.

A multi-round tool call (`delete_item`) answers its first round with `resultType:
"input_required"` and an opaque `requestState`; the client sends it back with its answers in
the second round, which any worker process of any replica may receive. The SDK seals that
state (AES-GCM) and refuses any it cannot verify, so every process must hold the same key:
`request_state_keys`, from the environment or a secret file (settings.py). Without one the SDK
uses a key of this process only, which is right for one worker and wrong for more:
`missing_shared_key` turns that into a start-up error.
"""

from mcp.server.mcpserver import RequestStateSecurity

from my_mcp_server.settings import Settings

ENV_PREFIX = "MY_MCP_SERVER_"
MIN_KEY_BYTES = 32


def request_state_keys(settings: Settings) -> list[str]:
    return [
        key.strip()
        for key in settings.request_state_keys.get_secret_value().split(",")
        if key.strip()
    ]


def request_state_security(settings: Settings) -> RequestStateSecurity | None:
    """The shared-key policy, or None for the SDK's default (a key of this process only)."""
    keys = request_state_keys(settings)
    if not keys:
        return None
    return RequestStateSecurity(keys=keys, ttl=settings.request_state_ttl_s)


def missing_shared_key(settings: Settings) -> str | None:
    """A one-line reason this configuration cannot serve multi-round calls, or None."""
    keys = request_state_keys(settings)
    if not keys and (settings.workers > 1 or settings.request_state_keys_required):
        why = (
            f"{ENV_PREFIX}WORKERS={settings.workers}"
            if settings.workers > 1
            else f"{ENV_PREFIX}REQUEST_STATE_KEYS_REQUIRED=true (replicas)"
        )
        return (
            f"{ENV_PREFIX}REQUEST_STATE_KEYS is not set but {why}: every process needs the same "
            "key to continue a multi-round call another one began; set it to the output of: "
            'python -c "import secrets; print(secrets.token_hex(32))"'
        )
    short = [i for i, key in enumerate(keys) if len(key.encode()) < MIN_KEY_BYTES]
    if short:
        return (
            f"{ENV_PREFIX}REQUEST_STATE_KEYS: key {short[0] + 1} is shorter than {MIN_KEY_BYTES} "
            'bytes; use the output of: python -c "import secrets; print(secrets.token_hex(32))"'
        )
    return None
