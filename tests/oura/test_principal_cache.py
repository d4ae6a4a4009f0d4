"""`oura.auth.PrincipalCache`: protected requests stop paying a key lookup each, and a revoked key
is still refused within the cache's ttl. Real PostgreSQL; a fake monotonic clock."""

from __future__ import annotations

from oura.auth import PrincipalCache, Role, create_key, revoke_key


class FakeMonotonic:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


class CountingConnection:
    """Forwards to the pool and counts the key lookups (the round trips the cache must save)."""

    def __init__(self, pool) -> None:  # noqa: ANN001
        self.pool = pool
        self.lookups = 0

    async def fetchrow(self, *args):  # noqa: ANN002, ANN201
        self.lookups += 1
        return await self.pool.fetchrow(*args)


async def test_a_key_is_looked_up_once_per_ttl(db_pool):
    clock = FakeMonotonic()
    cache = PrincipalCache(ttl_s=5.0, clock=clock)
    conn = CountingConnection(db_pool)
    principal, token = await create_key(db_pool, Role.SALES_POINT, "sytral")
    for _ in range(10):
        assert await cache.authenticate(conn, token) == principal
    assert conn.lookups == 1
    clock.now_s += 5.0
    assert await cache.authenticate(conn, token) == principal
    assert conn.lookups == 2


async def test_revocation_takes_effect_within_the_ttl(db_pool):
    clock = FakeMonotonic()
    cache = PrincipalCache(ttl_s=5.0, clock=clock)
    principal, token = await create_key(db_pool, Role.DEVICE, "sytral")
    assert await cache.authenticate(db_pool, token) == principal
    assert await revoke_key(db_pool, principal.key_id)
    clock.now_s += 4.9
    assert await cache.authenticate(db_pool, token) == principal  # the documented staleness bound
    clock.now_s += 0.1
    assert await cache.authenticate(db_pool, token) is None
    clock.now_s += 60
    assert await cache.authenticate(db_pool, token) is None


async def test_failures_are_not_remembered_and_the_cache_is_bounded(db_pool):
    clock = FakeMonotonic()
    cache = PrincipalCache(ttl_s=5.0, max_entries=2, clock=clock)
    conn = CountingConnection(db_pool)
    principal, token = await create_key(db_pool, Role.ADMIN)
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert await cache.authenticate(conn, wrong) is None
    assert await cache.authenticate(conn, wrong) is None
    assert conn.lookups == 2 and len(cache) == 0
    tokens = [token] + [(await create_key(db_pool, Role.DEVICE, "tcl"))[1] for _ in range(2)]
    for t in tokens:
        assert await cache.authenticate(conn, t) is not None
    assert len(cache) == 2
    lookups = conn.lookups
    assert await cache.authenticate(conn, token) == principal  # the oldest was dropped: looked up again
    assert conn.lookups == lookups + 1
