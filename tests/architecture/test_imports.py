"""The import table of ARCHITECTURE.md (STYLE's dependency table), enforced exactly.

Following OTP's RaptorArchitectureTest, each rule names a group of modules and what it may (or must
not) import; the test reads the imports from the source with `ast`, so lazy imports inside
functions count too. Three rules hold for every module besides the table: no module imports
another package's `repository`, no module imports a `_private` name of another module (a private
module is private to the package that holds it), and every module is covered by a rule. A rule
that names a module that does not exist fails, and so does one ARCHITECTURE.md does not name, so
neither the table nor its documentation can rot as code moves.
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("oura", "feeds", "journey_planner", "ticketing", "nfc_gateway", "traveller_site")
FOUNDATION = ("oura.config", "oura.clock", "oura.errors", "oura.db", "oura.http", "oura.auth", "oura.keys",
              "oura.concurrency", "oura.logs", "oura.commands")
ASSEMBLY = ("oura", "oura.__main__", "oura.app", "oura.cli", "oura.wiring", "oura.usage")  # `oura` itself: __version__ only
DEMO = ("oura.demo",)
FEEDS_PUBLIC_MODELS = ("feeds.gtfs.model", "feeds.gtfs.service_days", "feeds.realtime.model")


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


@functools.cache  # parsed once per run, not once per rule (make test-fast's budget); read-only
def _all_modules() -> dict[str, list[str]]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules[_module_name(path)] = _imports(path)
    return modules


def _packages() -> set[str]:
    """Module names that are packages (a folder with __init__.py)."""
    return {_module_name(path.parent / "__init__.py") for package in PACKAGES
            for path in (ROOT / package).rglob("__init__.py")}


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

    def modules_named(self) -> tuple[str, ...]:
        return self.applies_to + self.forbidden + (self.allowed_only or ()) + self.exempt


RULES = [
    Rule("the foundation imports only the foundation", FOUNDATION,
         allowed_only=FOUNDATION, third_party=("aiohttp", "asyncpg", "pgserver", "psutil", "prometheus_client")),
    Rule("the assembly (oura.app, oura.cli, oura.wiring) may import every package", ASSEMBLY,
         allowed_only=PACKAGES),
    Rule("nothing outside the assembly imports it", PACKAGES, exempt=ASSEMBLY,
         forbidden=("oura.app", "oura.cli", "oura.wiring", "oura.__main__")),
    Rule("feeds imports the foundation only", ("feeds",),
         allowed_only=FOUNDATION + ("feeds",)),
    Rule("journey_planner uses the foundation, feeds' public models and ticketing's fare engine", ("journey_planner",),
         exempt=("journey_planner.core",),
         allowed_only=FOUNDATION + ("journey_planner",) + FEEDS_PUBLIC_MODELS + ("ticketing.fares",)),
    Rule("the planner core is pure: stdlib, numpy and numba only", ("journey_planner.core",),
         allowed_only=("journey_planner.core",), third_party=("numpy", "numba")),
    Rule("ticketing uses the foundation and feeds' public GTFS model only", ("ticketing",),
         allowed_only=FOUNDATION + ("ticketing", "feeds.gtfs.model", "feeds.gtfs.service_days")),
    Rule("the fare engine is pure", ("ticketing.fares", "ticketing.products"),
         allowed_only=("ticketing.fares", "ticketing.products"), third_party=("ortools", "numpy")),
    Rule("the NFC gateway uses the foundation and ticketing's public service API only", ("nfc_gateway",),
         allowed_only=FOUNDATION + ("nfc_gateway", "ticketing.media", "ticketing.validation", "ticketing.errors",
                                   "ticketing.selling", "ticketing.requests", "ticketing.refunds", "ticketing.products",
                                   "ticketing.payments", "ticketing.startup")),
    Rule("the traveller site uses the foundation and ticketing's public service API only (its page calls /v1)",
         ("traveller_site",),
         allowed_only=FOUNDATION + ("traveller_site", "ticketing.media", "ticketing.requests", "ticketing.schemas",
                                   "ticketing.service", "ticketing.startup")),
    Rule("the demo region generator uses the clock, run_blocking, add_command and feeds' public GTFS model only", DEMO,
         allowed_only=DEMO + ("oura.clock", "oura.concurrency", "oura.commands", "feeds.gtfs.model",
                              "feeds.gtfs.service_days"),
         third_party=("numpy", "pandas", "aiohttp", "google")),
    Rule("only oura.cli and oura.usage import the demo region generator (and bench/, tests/)", PACKAGES,
         exempt=DEMO + ("oura.cli", "oura.usage"), forbidden=DEMO),
]

PROJECT = PACKAGES


def _is_allowed(name: str, allowed: tuple[str, ...]) -> bool:
    # `from feeds.gtfs import model` also yields "feeds.gtfs": a parent of an allowed module is fine
    # by itself (the name imported from it is checked on its own).
    return _within(name, allowed) or any(a.startswith(name + ".") for a in allowed)


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
                elif rule.allowed_only is not None and not _is_allowed(name, rule.allowed_only):
                    problems.append(f"{module} imports {name}")
            elif rule.third_party is not None and top and top not in sys.stdlib_module_names:
                if top not in rule.third_party and top != "__future__":
                    problems.append(f"{module} imports third-party {name}")
    return sorted(set(problems))


def _private_violations(modules: dict[str, list[str]], packages: set[str]) -> list[str]:
    """A `_name` (not a dunder) is private to where it is defined: a private module to the modules of
    its package, a private name inside a module to that module."""
    problems = []
    for module, imports in sorted(modules.items()):
        for name in imports:
            if name.split(".")[0] not in PROJECT:
                continue
            parts = name.split(".")
            for index, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    owner = ".".join(parts[:index])
                    inside = _within(module, (owner,)) if owner in packages else module == owner
                    if not inside:
                        problems.append(f"{module} imports {name}")
                    break
    return sorted(set(problems))


def _repository_violations(modules: dict[str, list[str]]) -> list[str]:
    """`repository` (and the queries it loads) belongs to its top-level package."""
    problems = []
    for module, imports in sorted(modules.items()):
        for name in imports:
            parts = name.split(".")
            if parts[0] in PROJECT and "repository" in parts and parts[0] != module.split(".")[0]:
                problems.append(f"{module} imports {name}")
    return sorted(set(problems))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.description)
def test_dependency_rule(rule: Rule):
    problems = _violations(rule, _all_modules())
    assert not problems, f"{rule.description}:\n  " + "\n  ".join(problems)


def test_no_private_name_of_another_module_is_imported():
    problems = _private_violations(_all_modules(), _packages())
    assert not problems, "private names imported from outside their module or package:\n  " + "\n  ".join(problems)


def test_no_package_imports_another_packages_repository():
    problems = _repository_violations(_all_modules())
    assert not problems, "another package's repository imported:\n  " + "\n  ".join(problems)


def test_every_module_a_rule_names_exists():
    modules = set(_all_modules())
    missing = sorted({name for rule in RULES for name in rule.modules_named() if name not in modules})
    assert not missing, f"the import table names modules that do not exist: {missing}"


def test_architecture_md_names_every_module_of_the_table():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = sorted({name for rule in RULES for name in rule.modules_named() if f"`{name}`" not in text})
    assert not missing, f"ARCHITECTURE.md's import table does not name: {missing}"


def test_every_module_is_covered_by_a_rule():
    # "nothing imports the assembly" covers every module; the others must each fall under a rule
    # saying what they may import.
    positive = [rule for rule in RULES if rule.allowed_only is not None]
    uncovered = sorted(module for module in _all_modules()
                       if not any(_within(module, r.applies_to) and not _within(module, r.exempt) for r in positive))
    assert not uncovered, f"modules no rule of the table says anything about: {uncovered}"


def _rule(description_start: str) -> Rule:
    return next(rule for rule in RULES if rule.description.startswith(description_start))


def test_the_checker_catches_a_violation():
    fake = {
        "journey_planner.core.raptor": ["aiohttp", "feeds.repository"],
        "feeds.x": ["ticketing.sales"],
        "journey_planner.places": ["feeds.gtfs.reader", "feeds.gtfs.model", "feeds.gtfs", "feeds.stop_links"],
        "ticketing.http": ["oura.demo.region", "oura.wiring", "feeds.gtfs.rules._common"],
        "feeds.regional": ["feeds.gtfs.rules._common", "feeds.ingest._private_helper"],
        "feeds.gtfs.rules.calendar": ["feeds.gtfs.rules._common.blank"],
    }
    assert _violations(_rule("the planner core"), fake) == [
        "journey_planner.core.raptor imports feeds.repository",
        "journey_planner.core.raptor imports third-party aiohttp",
    ]
    assert _violations(_rule("feeds imports"), fake) == ["feeds.x imports ticketing.sales"]
    assert _violations(_rule("journey_planner uses"), fake) == [
        "journey_planner.places imports feeds.gtfs.reader",
        "journey_planner.places imports feeds.stop_links",
    ]
    assert _violations(_rule("only oura.cli"), fake) == ["ticketing.http imports oura.demo.region"]
    assert _violations(_rule("nothing outside"), fake) == ["ticketing.http imports oura.wiring"]
    assert _private_violations(fake, {"feeds", "feeds.gtfs", "feeds.gtfs.rules"}) == [
        "feeds.regional imports feeds.gtfs.rules._common",
        "feeds.regional imports feeds.ingest._private_helper",
        "ticketing.http imports feeds.gtfs.rules._common",
    ]
    assert _repository_violations(fake) == ["journey_planner.core.raptor imports feeds.repository"]
