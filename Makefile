# mcp-perf-template: the template's own tasks. `make help` lists them.
.DEFAULT_GOAL := help
UV ?= uv
# Matrix parallelism (pytest-xdist workers). Each combination renders, installs and lints; the
# generated suite runs once per distinct source tree (tests/source_tree.py). Four on two cores:
# much of a combination waits (uv resolving against the index, servers starting, sockets), and
# four finished the matrix sooner than three when compared. Each suite holds a few database
# connections: four stay well under PostgreSQL's default limit of 100.
JOBS ?= 4
# `make test-one DATA="database=postgresql cache=redis"`: unspecified answers take their defaults.
DATA ?=

.PHONY: help
help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: install
install: ## the template's dev environment (.venv)
	$(UV) sync

.PHONY: test
test: lint ## lint, then every test: questions, every combination (render, lint, suite per source tree: whole in a pairwise cover, quick elsewhere), updates
	$(UV) run pytest -n $(JOBS)

.PHONY: test-one
test-one: ## one combination, DATA="database=postgresql cache=redis": render, lint, whole suite, deploy tests
	$(UV) run pytest -p no:cacheprovider tests/test_matrix.py::test_combination --combination "$(DATA)"

.PHONY: test-fast
test-fast: ## everything but the full matrix
	$(UV) run pytest -n $(JOBS) -m "not matrix"

.PHONY: lint
lint: ## ruff on the template's own Python
	$(UV) run ruff check tests hooks bench
	$(UV) run ruff format --check tests hooks bench

.PHONY: examples
examples: ## re-render examples/default and examples/full from the working tree (commit the result)
	$(UV) run python -m tests.examples

.PHONY: bench
bench: ## render postgresql+redis; generated vs naive vs bare Starlette, same load; last line: ratios
	$(UV) run python bench/run.py

.PHONY: demo
demo: ## render the embedded default into build/demo and run its tests
	rm -rf build/demo
	$(UV) run copier copy --defaults --vcs-ref HEAD . build/demo
	$(MAKE) -C build/demo install test
