"""Which files a rendered project must and must not contain, as a function of its answers."""

from __future__ import annotations

from pathlib import Path

WINDOWS_FORBIDDEN = set('<>:"\\|?*')


K8S_ALWAYS = (
    "base/kustomization",
    "base/configmap",
    "base/deployment",
    "base/service",
    "base/networkpolicy",
    "base/servicemonitor",
    "base/prometheusrule",
    "overlays/example/kustomization",
    "overlays/example/configmap-patch",
)


HELM_ALWAYS = (
    "Chart.yaml",
    ".helmignore",
    "values.yaml",
    "values.schema.json",
    "ci/all-on-values.yaml",
    "ci/all-off-values.yaml",
    "templates/_helpers.tpl",
    "templates/NOTES.txt",
    "templates/configmap.yaml",
    "templates/deployment.yaml",
    "templates/service.yaml",
    "templates/networkpolicy.yaml",
    "templates/servicemonitor.yaml",
    "templates/prometheusrule.yaml",
    "templates/ingress.yaml",
)


def expected_files(answers: dict[str, str], package: str, slug: str) -> tuple[set[str], set[str]]:
    """(paths that must exist, paths that must not) relative to the project root."""
    pkg = f"src/{package}"
    always = {
        ".copier-answers.yml",
        ".gitignore",
        "Makefile",
        "README.md",
        "pyproject.toml",
        "docs/architecture.md",
        "docs/performance.md",
        *(f"{pkg}/{m}.py" for m in ("__init__", "__main__", "app", "http_client", "resources")),
        *(f"{pkg}/{m}.py" for m in ("server", "settings")),
        *(f"{pkg}/{m}.py" for m in ("errors", "prompts", "completions", "worker_stamp")),
        "tests/test_protocol.py",
        *(f"{pkg}/tools/{m}.py" for m in ("__init__", "info", "upstream")),
        "tests/conftest.py",
        "tests/test_mcp_http.py",
        "tests/test_settings.py",
        "tests/test_stdio.py",
        "tests/test_limits.py",
        "tests/test_shutdown.py",
        f"{pkg}/limits.py",
        f"{pkg}/deadlines.py",
        "tests/test_deadlines.py",
        f"{pkg}/call_executor.py",
        f"{pkg}/reply_encoding.py",
        "tests/test_reply_encoding.py",
        f"{pkg}/tool_metrics.py",
        f"{pkg}/plain_counters.py",
        f"{pkg}/runtime_metrics.py",
        "loadtest/cpu_profile.py",
        "loadtest/memory_profile.py",
        "loadtest/profile_groups.py",
        "tests/test_profile_groups.py",
        "tests/test_profiling.py",
        "tests/test_fast_path.py",
        "tests/test_plain_counters.py",
        "tests/test_tool_metrics.py",
        f"{pkg}/telemetry.py",
        f"{pkg}/worker_metrics.py",
        f"{pkg}/runtime_gauges.py",
        "tests/test_observability.py",
        f"{pkg}/preflight.py",
        f"{pkg}/startup_line.py",
        "tests/test_first_run.py",
        "loadtest/bench_telemetry.py",
        "loadtest/naive_server.py",
        "observability/otel-collector.yaml",
        "observability/prometheus/prometheus.yml",
        "observability/prometheus/rules.yml",
        "observability/prometheus/rules_test.yml",
        "observability/grafana/dashboards/mcp-server.json",
        "observability/grafana/provisioning/datasources/prometheus.yml",
        "observability/grafana/provisioning/dashboards/mcp.yml",
        *(
            f"docs/runbooks/{alert}.md"
            for alert in (
                "McpErrorBudgetBurnFast",
                "McpErrorBudgetBurnSlow",
                "McpLatencyBudgetBurnFast",
                "McpLatencyBudgetBurnSlow",
                "McpServerNotReady",
                "McpEventLoopLagHigh",
            )
        ),
    }
    k8s = answers["deployment"] == "kubernetes"
    helm = answers["deployment"] == "helm"
    chart = f"deploy/helm/{slug}"
    # request_state_keys wherever there is a multi-round tool (a database)
    has_secrets = (
        answers["database"] != "none" or answers["cache"] == "redis" or answers["auth"] == "bearer"
    )
    switched = {
        f"{pkg}/db.py": answers["database"] != "none",
        f"{pkg}/tools/items.py": answers["database"] != "none",
        f"{pkg}/tools/delete.py": answers["database"] != "none",
        f"{pkg}/request_state.py": answers["database"] != "none",
        "tests/test_multi_round.py": answers["database"] != "none",
        "tests/test_items.py": answers["database"] != "none",
        f"{pkg}/pool_metrics.py": answers["database"] != "none",
        f"{pkg}/migrations/0001_items.sql": answers["database"] != "none",
        "loadtest/bench_db.py": answers["database"] != "none",
        "loadtest/naive_db.py": answers["database"] != "none",
        "tests/test_naive_baseline.py": answers["database"] != "none",
        "tests/test_db_pool.py": answers["database"] == "postgresql",
        f"{pkg}/cache.py": answers["cache"] != "none",
        "tests/test_cache.py": answers["cache"] != "none",
        "tests/test_cache_redis.py": answers["cache"] == "redis",
        "loadtest/bench_cache.py": answers["cache"] != "none",
        f"{pkg}/auth.py": answers["auth"] == "bearer",
        "tests/test_auth.py": answers["auth"] == "bearer",
        **{
            path: answers["auth"] == "oauth"
            for path in (
                *(f"{pkg}/{m}.py" for m in ("oauth", "caller", "audit", "rate_limit")),
                f"{pkg}/call_guard.py",
                "tests/issuer.py",
                "tests/test_oauth.py",
                "docs/auth.md",
                "docs/runbooks/McpCallersRateLimited.md",
            )
        },
        "docs/runbooks/McpDbPoolWaiters.md": answers["database"] != "none",
        "docs/runbooks/McpCacheHitRatioCollapse.md": answers["cache"] != "none",
        "docs/runbooks/McpRedisBreakerOpen.md": answers["cache"] == "redis",
        **dict.fromkeys(
            ["Dockerfile", ".dockerignore", "docs/deploy.md", "tests/test_deploy.py"],
            answers["deployment"] != "none",
        ),
        "compose.yaml": answers["deployment"] == "compose",
        "deploy": k8s or helm,
        "deploy/k8s": k8s,
        "deploy/helm": helm,
        **{f"{chart}/{path}": helm for path in HELM_ALWAYS},
        f"{chart}/templates/hpa.yaml": helm and answers["database"] != "sqlite",
        f"{chart}/templates/pdb.yaml": helm and answers["database"] != "sqlite",
        f"{chart}/templates/pvc.yaml": helm and answers["database"] == "sqlite",
        "tests/test_helm_chart.py": helm,
        "tests/helm_embedded.py": helm,
        **{f"deploy/k8s/{path}.yaml": k8s for path in K8S_ALWAYS},
        "deploy/k8s/base/hpa.yaml": k8s and answers["database"] != "sqlite",
        "deploy/k8s/base/pdb.yaml": k8s and answers["database"] != "sqlite",
        "deploy/k8s/base/pvc.yaml": k8s and answers["database"] == "sqlite",
        "deploy/k8s/base/secret.example.yaml": k8s and has_secrets,
    }
    present = always | {p for p, on in switched.items() if on}
    absent = {p for p, on in switched.items() if not on} | {"_includes", "template"}
    return present, absent


def template_leftovers(root: Path) -> list[str]:
    """Paths that show a templating mistake or would break a Windows checkout."""
    bad: list[str] = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if ".venv" in rel.parts or ".git" in rel.parts:
            continue
        name = path.name
        if name.endswith(".jinja") or "{{" in name or "{%" in name:
            bad.append(f"{rel}: unrendered template name")
        elif WINDOWS_FORBIDDEN & set(name) or name.endswith((" ", ".")):
            bad.append(f"{rel}: not a valid Windows file name")
        elif path.is_file() and path.stat().st_size == 0 and name != "__init__.py":
            bad.append(f"{rel}: empty file (a conditional that rendered nothing?)")
    return bad
