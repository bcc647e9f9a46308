"""`delete_item`: the multi-round pattern. The user confirms through an elicitation before anything
is deleted; the write invalidates the cached copy.

The confirmation is a resolver (`Resolve(ask_to_confirm)`), so the SDK picks the transport the
client's protocol version has:

- 2026-07-28: the first round answers `resultType: "input_required"` with the elicitation in
  `inputRequests` and a sealed `requestState`; the client retries with the user's answer in
  `inputResponses`. Any worker of any replica may take the second round when they share
  `request_state_keys` (request_state.py); a tampered or expired `requestState` is refused with
  -32602 before this function runs, so it deletes nothing.
- 2025-11-25 (legacy): the SDK sends `elicitation/create` to the client in the middle of the call.
  That needs a channel back to the client: stdio has one; this server's stateless HTTP has none,
  so there the call ends as a tool error and deletes nothing.
"""

from typing import Annotated

from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from my_mcp_server.db import DatabaseError
from my_mcp_server.resources import Resources, resources_of
from my_mcp_server.tools.items import Key


class Confirmation(BaseModel):
    """The form the user fills in: one yes/no field."""

    confirm: bool = Field(description="Delete the item permanently?")


class Deletion(BaseModel):
    key: str
    deleted: bool
    reason: str


async def ask_to_confirm(key: Key) -> Elicit[Confirmation]:
    return Elicit(f"Delete item {key!r}? This cannot be undone.", Confirmation)


def register(server: MCPServer[Resources]) -> None:
    @server.tool(annotations=ToolAnnotations(destructive_hint=True, idempotent_hint=True))
    async def delete_item(
        key: Key,
        answer: Annotated[ElicitationResult[Confirmation], Resolve(ask_to_confirm)],
        ctx: Context[Resources],
    ) -> Deletion:
        """Delete one item, after the user confirms it."""
        if not isinstance(answer, AcceptedElicitation):
            return Deletion(key=key, deleted=False, reason=f"the user chose {answer.action}")
        if not answer.data.confirm:
            return Deletion(key=key, deleted=False, reason="the user did not confirm")
        res = resources_of(ctx)
        try:
            existed = await res.db.delete_item(key)
        except DatabaseError as exc:
            raise ToolError(str(exc)) from exc
        await res.cache.invalidate(f"item:{key}")
        return Deletion(key=key, deleted=existed, reason="deleted" if existed else "no such item")
