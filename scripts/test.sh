#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up a venv, then lint, type-check and test
# with branch coverage. Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
echo "== ruff"
.venv/bin/ruff check src tests examples benchmarks
.venv/bin/ruff format --check src tests examples benchmarks
echo "== mypy (strict)"
.venv/bin/mypy
echo "== pytest (branch coverage)"
.venv/bin/python -m pytest --cov=sirecommend --cov-branch --cov-report=term-missing "$@"
