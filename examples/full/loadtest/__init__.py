"""Load tests: locust scenarios, the SLA gate, the runners of `make loadtest` / `perf-report`."""
