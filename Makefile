# mcp-perf-template: the template's own tasks. `make help` lists them.
.DEFAULT_GOAL := help
UV ?= uv
# Matrix parallelism: each combination runs its own uv sync, ruff, mypy and test suite.
JOBS ?= 2

.PHONY: help
help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: install
install: ## the template's dev environment (.venv)
	$(UV) sync

.PHONY: test
test: lint ## lint, then every test: questions, every combination (render, lint, its own suite), updates
	$(UV) run pytest -n $(JOBS)

.PHONY: test-fast
test-fast: ## everything but the full matrix
	$(UV) run pytest -n $(JOBS) -m "not matrix"

.PHONY: lint
lint: ## ruff on the template's own Python
	$(UV) run ruff check tests hooks bench
	$(UV) run ruff format --check tests hooks bench

.PHONY: bench
bench: ## render postgresql+redis; generated vs naive vs bare Starlette, same load; last line: ratios
	$(UV) run python bench/run.py

.PHONY: demo
demo: ## render the embedded default into build/demo and run its tests
	rm -rf build/demo
	$(UV) run copier copy --defaults --vcs-ref HEAD . build/demo
	$(MAKE) -C build/demo install test
