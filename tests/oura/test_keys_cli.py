"""`oura keys create`: a key acts for an authority of the registry, or for none (admin, metrics)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import asyncpg

from oura.cli import build_parser

from tests.registry_toml import TestNetwork, registry_text

REGISTRY = registry_text(TestNetwork("sytral", "tcl", "{static}"), region="Test region", timezone="Europe/Paris")


def _run(argv: list[str], config) -> int:  # noqa: ANN001
    args = build_parser().parse_args(argv)
    return args.func(args, config)


def _keys(dsn: str) -> list[tuple]:
    async def fetch() -> list[tuple]:
        conn = await asyncpg.connect(dsn)
        try:
            return [tuple(r) for r in await conn.fetch("SELECT role, authority_id FROM api_keys ORDER BY created_at")]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def test_a_key_for_an_authority_outside_the_registry_is_refused(app_config, tmp_path: Path, capsys) -> None:
    """Regression: a key for a made-up authority was created, sold tickets and appeared in clearing."""
    registry = tmp_path / "registry.toml"
    registry.write_text(REGISTRY.format(static=tmp_path / "tcl.zip"), encoding="utf-8")
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry))

    assert _run(["keys", "create", "--role", "sales_point", "--authority", "made-up"], config) == 2
    err = capsys.readouterr().err
    assert "no authority 'made-up'" in err and "sytral" in err
    assert _keys(app_config.database.url) == []

    assert _run(["keys", "create", "--role", "sales_point", "--authority", "sytral"], config) == 0
    assert capsys.readouterr().out.startswith("oura_")
    assert _run(["keys", "create", "--role", "metrics"], config) == 0
    assert _keys(app_config.database.url) == [("sales_point", "sytral"), ("metrics", None)]


def test_without_a_registry_the_demo_regions_authorities_are_the_known_ones(app_config, capsys) -> None:
    assert _run(["keys", "create", "--role", "device", "--authority", "pirates"], app_config) == 2
    assert "no authority 'pirates'" in capsys.readouterr().err
    assert _run(["keys", "create", "--role", "device", "--authority", "sytral"], app_config) == 0
    assert _keys(app_config.database.url) == [("device", "sytral")]


async def test_create_key_refuses_an_authority_not_in_the_list(db_pool) -> None:
    import pytest

    from oura.auth import UnknownAuthority, create_key

    with pytest.raises(UnknownAuthority):
        await create_key(db_pool, "authority", "made-up", authorities={"sytral"})
    assert await db_pool.fetchval("SELECT count(*) FROM api_keys") == 0
    principal, _ = await create_key(db_pool, "authority", "sytral", authorities={"sytral"})
    assert principal.authority_id == "sytral"
