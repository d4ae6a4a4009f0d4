"""Configuration: environment over file over defaults, and clear errors for bad values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oura.clock import FixedClock
from oura.config import ConfigError, load_config


def test_defaults_use_the_embedded_database_in_var():
    config = load_config({})
    assert config.database.url is None
    assert config.database.embedded_pgdata == Path("var/pgdata")
    assert (config.http.host, config.http.port) == ("127.0.0.1", 8080)


def test_environment_wins_over_the_file(tmp_path):
    file = tmp_path / "oura.toml"
    file.write_text('data_dir = "state"\n[http]\nport = 9000\nhost = "0.0.0.0"\n[database]\npool_max_size = 5\n')
    config = load_config({"OURA_CONFIG": str(file), "OURA_PORT": "9100", "DATABASE_URL": "postgresql://x/y"})
    assert config.http.port == 9100 and config.http.host == "0.0.0.0"
    assert config.database.url == "postgresql://x/y" and config.database.pool_max_size == 5
    assert config.database.embedded_pgdata == Path("state/pgdata")
    assert config.feeds.store_dir == Path("state/feeds")


@pytest.mark.parametrize(
    ("env", "file_text", "message"),
    [
        ({"OURA_PORT": "eighty"}, None, "OURA_PORT"),
        ({}, "[http]\nport = 70000\n", "out of range"),
        ({}, "[http]\nprot = 1\n", "unknown setting http.prot"),
        ({}, "[nonsense]\n", "unknown config section"),
        ({}, "[http\n", "not valid TOML"),
        ({"OURA_LOG_LEVEL": "LOUD"}, None, "log.level"),
        ({}, "[database]\npool_max_size = -3\n", "must not be negative"),
        ({"OURA_SITE_TILE_URL": "http://tiles.example/{z}/{x}/{y}.png"}, None, "site.tile_url"),
        ({}, "[site]\ntile = 1\n", "unknown setting site.tile"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, env, file_text, message):
    if file_text is not None:
        file = tmp_path / "oura.toml"
        file.write_text(file_text)
        env = {**env, "OURA_CONFIG": str(file)}
    with pytest.raises(ConfigError, match=message):
        load_config(env)


def test_fixed_clock_moves_only_forward():
    clock = FixedClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert clock.now().tzinfo is UTC
    clock.advance(timedelta(hours=2))
    assert clock.now() == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert clock.monotonic() == 7200
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))


def test_the_sites_tile_url_comes_from_the_environment_or_the_file(tmp_path):
    assert load_config({}).site.tile_url == ""  # the offline basemap only
    url = "https://tiles.example/{z}/{x}/{y}.png"
    assert load_config({"OURA_SITE_TILE_URL": url}).site.tile_url == url
    file = tmp_path / "oura.toml"
    file.write_text('[site]\nweb_shop_authority = "sytral"\n')
    assert load_config({"OURA_CONFIG": str(file)}).site.web_shop_authority == "sytral"
