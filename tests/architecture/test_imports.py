"""The dependency table of ../shared/STYLE.md, enforced (OTP's RaptorArchitectureTest).

Each rule names a group of modules and the imports it must not make. Imports are read from the
source with `ast`, so the test sees lazy imports inside functions too.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("oura", "feeds", "journey_planner", "ticketing", "nfc_gateway")
FOUNDATION = ("oura.config", "oura.clock", "oura.errors", "oura.secrets", "oura.db", "oura.http",
              "oura.auth", "oura.keys", "oura.concurrency", "oura.logs")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(target)
            found.extend(f"{target}.{alias.name}" for alias in node.names)
    return found


def _all_modules() -> dict[str, list[str]]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules[_module_name(path)] = _imports(path)
    return modules


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class Rule:
    description: str
    applies_to: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    allowed_only: tuple[str, ...] | None = None  # when set: project imports must be in here
    third_party: tuple[str, ...] | None = None  # when set: non-stdlib imports must be in here
    exempt: tuple[str, ...] = ()


RULES = [
    Rule("the foundation imports no domain package and no assembly module", FOUNDATION,
         forbidden=("feeds", "journey_planner", "ticketing", "nfc_gateway", "oura.app", "oura.cli", "oura.demo", "oura.wiring")),
    Rule("feeds imports no other domain package", ("feeds",),
         forbidden=("journey_planner", "ticketing", "nfc_gateway", "oura.app", "oura.cli", "oura.demo", "oura.wiring")),
    Rule("journey_planner uses only feeds' public models and ticketing's pricing", ("journey_planner",),
         allowed_only=FOUNDATION + ("journey_planner", "feeds.gtfs", "feeds.realtime.model",
                                    "feeds.realtime.decode", "feeds.realtime.match", "feeds.merge",
                                    "ticketing.fares", "ticketing.products")),
    Rule("the planner core is pure: stdlib, numpy and numba only", ("journey_planner.core",),
         allowed_only=("journey_planner.core",), third_party=("numpy", "numba")),
    Rule("ticketing never imports the planner or the NFC gateway", ("ticketing",),
         forbidden=("journey_planner", "nfc_gateway", "oura.app", "oura.cli", "oura.demo", "oura.wiring")),
    Rule("the fare engine is pure", ("ticketing.fares", "ticketing.products"),
         allowed_only=("ticketing.fares", "ticketing.products"), third_party=("ortools", "numpy")),
    Rule("the NFC gateway uses ticketing's public service API only", ("nfc_gateway",),
         forbidden=("journey_planner", "feeds", "ticketing.repository", "oura.app", "oura.cli", "oura.wiring")),
]

PROJECT = PACKAGES


def _violations(rule: Rule, modules: dict[str, list[str]]) -> list[str]:
    problems = []
    for module, imports in sorted(modules.items()):
        if not _within(module, rule.applies_to) or _within(module, rule.exempt):
            continue
        for name in imports:
            top = name.split(".")[0]
            if top in PROJECT:
                if rule.forbidden and _within(name, rule.forbidden):
                    problems.append(f"{module} imports {name}")
                elif rule.allowed_only is not None and not _within(name, rule.allowed_only):
                    # importing a package __init__ that re-exports is allowed if the package itself is allowed
                    if not any(a.startswith(name + ".") for a in rule.allowed_only):
                        problems.append(f"{module} imports {name}")
            elif rule.third_party is not None and top and top not in sys.stdlib_module_names:
                if top not in rule.third_party and top != "__future__":
                    problems.append(f"{module} imports third-party {name}")
    return sorted(set(problems))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.description)
def test_dependency_rule(rule: Rule):
    problems = _violations(rule, _all_modules())
    assert not problems, f"{rule.description}:\n  " + "\n  ".join(problems)


def test_the_checker_catches_a_violation():
    fake = {"journey_planner.core.raptor": ["aiohttp", "feeds.repository"], "feeds.x": ["ticketing.sales"]}
    assert _violations(RULES[3], fake) == [
        "journey_planner.core.raptor imports feeds.repository",
        "journey_planner.core.raptor imports third-party aiohttp",
    ]
    assert _violations(RULES[1], fake) == ["feeds.x imports ticketing.sales"]
