"""Sizes that keep modules readable (issue 11): no module over 600 lines outside generated data
(the site bundle), the SQL schema and its migrations; no function over 80 lines in the planner,
the realtime feeds or ticketing's sales."""

from __future__ import annotations

import ast
import subprocess

from tests.architecture.test_imports import ROOT

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
FUNCTION_LIMIT_UNDER = ("journey_planner/", "feeds/realtime/", "ticketing/selling.py", "ticketing/refunds.py",
                        "ticketing/reconciliation.py")
GENERATED = ("traveller_site/static/dist/",)  # the site's bundle, built by esbuild from traveller_site/web


def _tracked(*patterns: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [path for path in out.split() if not path.startswith(GENERATED) and (ROOT / path).is_file()]


def test_no_module_is_over_600_lines():
    long = [f"{path}: {n} lines" for path in _tracked("*.py", "*.js", "*.mjs", "*.sql")
            if (n := len((ROOT / path).read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
            and not path.startswith(("oura/db/migrations/", "oura/db/schema.sql"))]
    assert not long, long


def test_no_function_is_over_80_lines_in_the_planner_realtime_and_sales():
    long = []
    for path in _tracked(*(p if p.endswith(".py") else f"{p}*.py" for p in FUNCTION_LIMIT_UNDER)):
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path}:{node.lineno} {node.name}: {lines} lines")
    assert not long, long
