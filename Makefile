# Zhaocai: two commands. `make run` serves the portal on the embedded default;
# `make test` starts what the tests need and runs lint, types and every test.

PYTHON ?= python3
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install lint types unit services-check clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

install: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

run: install
	$(BIN)/zhaocai run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

types: install
	$(BIN)/mypy

# Browser tests run in their own pytest process: Playwright's sync API keeps an event
# loop running in the main thread, which the async tests' loop cannot share.
test: install lint types
	$(BIN)/python -m tests.setup_machine
	$(BIN)/pytest -p no:cacheprovider -q -m "not e2e"
	$(BIN)/pytest -p no:cacheprovider -q -m e2e

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
