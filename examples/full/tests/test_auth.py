"""Bearer auth on the HTTP transport: no or wrong token is a 401 with WWW-Authenticate."""

import pytest

from loadtest.run import HTTP

REQUEST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic dXNlcjpwYXNz"])
def test_requests_without_a_valid_token_are_refused(
    mcp_url: str, authorization: str | None
) -> None:
    headers = dict(HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    response = HTTP.post(mcp_url, json=REQUEST, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_is_accepted(mcp_url: str, auth_headers: dict[str, str]) -> None:
    response = HTTP.post(
        mcp_url,
        json=REQUEST,
        headers={**HEADERS, **auth_headers, "MCP-Protocol-Version": "2025-11-25"},
    )
    assert response.status_code == 200
    assert "tools" in response.json()["result"]


def test_health_stays_open(base_url: str) -> None:
    assert HTTP.get(base_url + "/healthz").status_code == 200
