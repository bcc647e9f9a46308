"""my-mcp-server: an MCP server generated from mcp-perf-template."""

__version__ = "0.1.0"
DESCRIPTION = "A performance-optimized MCP server"
