"""Every tunable of the server, overridable from the environment.

Defaults come from the copier answers: the SLA targets and the sizing derived from them
(docs/performance.md shows the arithmetic). Override any field with `MY_MCP_SERVER_<FIELD>`,
e.g. `MY_MCP_SERVER_PORT=9000`.
"""

import os
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MY_MCP_SERVER_",
        env_file=".env",
        # Secret files (Docker/Kubernetes secrets): a file per field, named like its variable,
        # e.g. /run/secrets/my_mcp_server_auth_tokens. The environment wins over a file.
        secrets_dir=os.environ.get("MY_MCP_SERVER_SECRETS_DIR"),
        extra="ignore",
    )

    # --- process
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:*", "localhost:*", "[::1]:*"],
        description="Host headers accepted by /mcp (DNS-rebinding protection)",
    )
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    )
    # --- telemetry (telemetry.py); OTLP export follows the standard OTEL_* variables
    telemetry_enabled: bool = True  # off: no metrics, no spans (bench-telemetry's baseline)
    metrics_dir: str = Field(default="", description="worker snapshots for /metrics; '' = temp")
    # None: /metrics on the main port. A port: /metrics only there (e.g. monitoring network only).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # --- memory profiling (runtime_metrics.py; make profile-memory sets these for its server)
    tracemalloc_frames: int = Field(default=0, ge=0, description="0 = tracemalloc off")
    memory_snapshot_dir: str = Field(default="", description="SIGUSR1 writes snapshots here")
    # make profile-memory's leak check: calls after the warm-up, its time bound, allowed growth
    leak_check_calls: int = Field(default=100_000, ge=1)
    leak_check_max_s: float = Field(default=300, gt=0)
    leak_check_max_growth: float = Field(default=0.05, gt=0)

    # --- SLA targets (copier answers)
    sla_p95_ms: int = Field(default=100, gt=0)
    sla_p99_ms: int = Field(default=250, gt=0)
    sla_rps: int = Field(default=500, gt=0)
    sla_error_rate: float = Field(default=0.001, gt=0, lt=1)

    # --- admission control and timeouts (derived from the SLA)
    concurrency_limit: int = Field(default=100, ge=1)
    request_timeout_s: float = Field(default=2.5, gt=0)
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, description="largest accepted HTTP request body"
    )
    # Well-formed 2026-07-28 tools/call requests are answered by the owned executor
    # (call_executor.py) instead of the SDK's HTTP entry.
    fast_path: bool = True
    # Every result's _meta names the worker pid that produced it (worker_stamp.py; tests).
    debug_worker_pid: bool = False

    # --- PostgreSQL (asyncpg pool, per process)
    database_url: SecretStr = SecretStr(
        "postgresql://postgres@127.0.0.1:5432/my_mcp_server",
    )
    db_pool_min_size: int = Field(default=5, ge=0)
    db_pool_max_size: int = Field(default=20, ge=1)
    db_acquire_timeout_s: float = Field(default=0.25, gt=0)
    db_command_timeout_s: float = Field(default=1.0, gt=0)
    db_statement_cache_size: int = Field(default=1024, ge=0)
    db_connect_timeout_s: float = Field(default=5, gt=0)
    # How pg_stat_activity names this server's connections.
    db_application_name: str = "my_mcp_server"
    db_migrate_on_start: bool = True  # apply pending migrations when a process starts

    # --- multi-round tool calls (request_state.py): the key that seals `requestState`.
    # Comma-separated, each >= 32 bytes: the first seals, every one unseals (rotation). One value
    # for every worker and replica; '' = a key of this process only (one worker, no replicas).
    request_state_keys: SecretStr = SecretStr("")
    request_state_ttl_s: float = Field(default=600, gt=0, description="how long a round may wait")
    # Refuse to start without keys even with one worker (replicas: Kubernetes, compose --scale).
    request_state_keys_required: bool = False

    # --- cache
    cache_ttl_s: float = Field(default=30, gt=0)
    cache_l1_max_items: int = Field(default=10_000, ge=1)
    cache_enabled: bool = True  # off: every read goes to the loader (perf-report's baseline)
    cache_ttl_jitter: float = Field(default=0.1, ge=0, lt=1, description="share of TTL to vary")
    cache_negative_ttl_s: float = Field(default=1.0, ge=0, description="remember misses this long")
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_pool_max: int = Field(default=100, ge=1)
    redis_timeout_s: float = Field(default=0.25, gt=0)
    cache_namespace: str = "my_mcp_server"
    redis_breaker_failures: int = Field(default=3, ge=1, description="errors in a row to open")
    redis_breaker_cooldown_s: float = Field(default=2.0, gt=0, description="open -> one probe")

    # --- outbound HTTP (one shared pooled client)
    upstream_url: str = "http://127.0.0.1:8001"
    http_pool_max: int = Field(default=100, ge=1)
    http_timeout_s: float = Field(default=1.0, gt=0)

    # --- auth: static bearer tokens (comma-separated), from the environment or a mounted secret
    auth_tokens: SecretStr = SecretStr("")
    auth_required_scopes: list[str] = Field(default_factory=list)
    auth_issuer_url: str = "http://127.0.0.1:8000"
    auth_resource_url: str = "http://127.0.0.1:8000/mcp"

    @model_validator(mode="after")
    def _metrics_port_is_its_own(self) -> Self:
        # The listener binds before the server does, so a shared port would take /mcp's socket.
        if self.metrics_port is not None and self.metrics_port == self.port:
            msg = f"metrics_port must differ from port (both are {self.port})"
            raise ValueError(msg)
        return self
