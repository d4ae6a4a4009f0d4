"""[[carpool_operators]] tables of the registry file (journey_planner.carpool.operators)."""

from __future__ import annotations

import tomllib

import pytest

from journey_planner.carpool.operators import OperatorsConfigError, load_operators, parse_operators

REGISTRY = '''
[region]
name = "x"
timezone = "Europe/Paris"

[[carpool_operators]]
id = "covoit.example"
base_url = "https://api.covoit.example/v1/"
api_key_env = "COVOIT_KEY"

[[carpool_operators]]
id = "other.example"
base_url = "http://127.0.0.1:8091"
timeout_ms = 150
breaker_failures = 5
'''


def test_operators_are_read_with_their_defaults_and_keys_from_the_environment(tmp_path):
    first, second = parse_operators(tomllib.loads(REGISTRY), {"COVOIT_KEY": "s3cret"})
    assert (first.id, first.base_url, first.api_key, first.timeout_s) == (
        "covoit.example", "https://api.covoit.example/v1", "s3cret", 0.3)
    assert (second.timeout_s, second.breaker_failures, second.api_key) == (0.15, 5, None)
    path = tmp_path / "registry.toml"
    path.write_text(REGISTRY.replace('api_key_env = "COVOIT_KEY"\n', ""))
    assert [o.id for o in load_operators(path)] == ["covoit.example", "other.example"]
    assert load_operators(None) == []


@pytest.mark.parametrize("table, reason", [
    ('id = "a"', "id and base_url"),
    ('id = "a"\nbase_url = "ftp://a"', r"http\(s\)"),
    ('id = "a"\nbase_url = "http://a"\ntimeout = 3', "unknown keys"),
    ('id = "a"\nbase_url = "http://a"\napi_key_env = "NOPE"', "NOPE is not set"),
    ('id = "a"\nbase_url = "http://a"\ntimeout_ms = 0', "timeout_s > 0"),
])
def test_a_bad_table_is_refused_saying_why(table, reason):
    with pytest.raises(OperatorsConfigError, match=reason):
        parse_operators(tomllib.loads(f"[[carpool_operators]]\n{table}\n"), {})
