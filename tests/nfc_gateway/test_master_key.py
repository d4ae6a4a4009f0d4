"""The secure module's master key: ``[nfc] master_key_file`` (or ``OURA_NFC_MASTER_KEY_FILE``)
holds a real one, 16 or 32 bytes raw or in hex; a missing or malformed file is refused before the
service starts; the demo key (derived from the data folder) is used only when none is configured,
and the log says so."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

import pytest

from nfc_gateway.errors import CardMacInvalid
from nfc_gateway.remote.services import card_serial_of_medium, demo_master_key
from nfc_gateway.remote.terminal import RemoteRefused
from nfc_gateway.sim.card import SoftwareCard
from nfc_gateway.sim.sam import SecureModule
from oura.config import ConfigError, NfcConfig, load_config
from tests.nfc_gateway.remote_support import make_remote_harness
from tests.ticketing.conftest import demo_catalogue, demo_region  # noqa: F401  (fixtures)

KEY_16 = bytes(range(0x10, 0x20))
KEY_32 = bytes(range(0xA0, 0xC0))


def _write(tmp_path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(("content", "key"), [
    (KEY_16.hex().encode(), KEY_16),                          # 32 hex digits
    (KEY_32.hex().upper().encode() + b"\n", KEY_32),          # 64 hex digits and a newline
    (KEY_16, KEY_16),                                         # 16 raw bytes
    (KEY_32, KEY_32),                                         # 32 raw bytes
])
def test_a_key_file_in_hex_or_raw_gives_the_key(tmp_path, content, key):
    path = _write(tmp_path, "master.key", content)
    assert load_config({"OURA_NFC_MASTER_KEY_FILE": path}).nfc.read_master_key() == key
    toml = tmp_path / "oura.toml"
    toml.write_text(f'[nfc]\nmaster_key_file = "{path}"\n')
    assert load_config({}, file=toml).nfc.read_master_key() == key


@pytest.mark.parametrize(("content", "says"), [
    (b"", "holds 0 bytes"),
    (bytes(15), "holds 15 bytes"),
    (bytes(24), "holds 24 bytes"),                            # an AES-192 key: not one the region uses
    (KEY_16.hex().encode()[:-1], "holds 31 bytes"),           # a hex digit short
    (b"0011223344556677889900aabbccddez", "holds 32 bytes"),  # text, not hex: a typo, not a raw key
])
def test_a_malformed_key_file_is_refused_by_the_config_naming_the_file(tmp_path, content, says):
    path = _write(tmp_path, "bad.key", content)
    with pytest.raises(ConfigError) as refused:
        load_config({"OURA_NFC_MASTER_KEY_FILE": path})
    assert f"nfc.master_key_file {path}" in str(refused.value) and says in str(refused.value)


def test_a_missing_key_file_is_refused_and_no_file_means_no_key(tmp_path):
    with pytest.raises(ConfigError, match="cannot read it"):
        load_config({"OURA_NFC_MASTER_KEY_FILE": str(tmp_path / "absent.key")})
    assert load_config({}).nfc.master_key_file is None and NfcConfig().read_master_key() is None


def test_the_environment_names_the_file_over_the_toml(tmp_path):
    env_key = _write(tmp_path, "env.key", KEY_16.hex().encode())
    toml = tmp_path / "oura.toml"
    toml.write_text(f'[nfc]\nmaster_key_file = "{_write(tmp_path, "toml.key", KEY_32)}"\n')
    assert load_config({"OURA_NFC_MASTER_KEY_FILE": env_key}, file=toml).nfc.read_master_key() == KEY_16


async def _load_one(h, serial: str, card: SoftwareCard) -> dict:
    desk = await h.key("sales_point", h.authorities["tcl"])
    phone = await h.key("device", h.authorities["tcl"])
    await h.buy(desk, serial)
    return (await h.terminal(card, phone).run("LOAD_CONTRACTS")).output


def _card(serial: str, sam: SecureModule) -> SoftwareCard:
    """The phone's card of wallet ``serial``, personalised by ``sam``."""
    card_serial = card_serial_of_medium(serial)
    return SoftwareCard.blank(card_serial, sam.personalise(card_serial))


async def test_the_configured_key_keys_the_secure_module_and_the_demo_key_no_longer_works(
        app_config, make_client, demo_catalogue, tmp_path, caplog):  # noqa: F811
    path = _write(tmp_path, "master.key", KEY_32.hex().encode())
    config = replace(app_config, nfc=replace(app_config.nfc, master_key_file=path))
    with caplog.at_level(logging.INFO, logger="nfc_gateway.remote.services"):
        h = await make_remote_harness(config, make_client, demo_catalogue)
    assert any(f"read from {path}" in r.getMessage() for r in caplog.records)
    assert not any("DEMO" in r.getMessage() for r in caplog.records)
    desk = await h.key("sales_point", h.authorities["tcl"])

    # a card personalised with the configured key loads
    serial = await h.wallet(desk)
    output = await _load_one(h, serial, _card(serial, SecureModule(KEY_32)))
    assert output["successful"] and [j["status"] for j in output["loads"]] == ["confirmed"]
    # a card personalised with the demo key of the same data folder does not: its MAC is refused
    other = await h.wallet(desk)
    demo = _card(other, SecureModule(demo_master_key(str(config.data_dir.resolve()))))
    with pytest.raises(RemoteRefused) as refused:
        await _load_one(h, other, demo)
    assert refused.value.code == CardMacInvalid.code
    assert await h.pool.fetchval("SELECT count(*) FROM nfc_load_jobs WHERE status = 'confirmed'") == 1


async def test_without_a_key_file_the_demo_key_is_used_and_the_log_says_so(app_config, make_client, demo_catalogue, caplog):  # noqa: F811
    with caplog.at_level(logging.INFO, logger="nfc_gateway.remote.services"):
        h = await make_remote_harness(app_config, make_client, demo_catalogue)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "DEMO" in r.getMessage()]
    assert len(warnings) == 1 and "master_key_file" in warnings[0].getMessage()
    desk = await h.key("sales_point", h.authorities["tcl"])
    serial = await h.wallet(desk)
    card = _card(serial, SecureModule(demo_master_key(str(app_config.data_dir.resolve()))))
    assert (await _load_one(h, serial, card))["successful"]


async def test_a_key_file_gone_bad_after_the_config_was_read_stops_the_start_up(app_config, make_client, demo_catalogue, tmp_path):  # noqa: F811
    path = _write(tmp_path, "master.key", KEY_16)
    config = replace(app_config, nfc=replace(app_config.nfc, master_key_file=path))
    os.truncate(path, 10)
    with pytest.raises(ConfigError, match="holds 10 bytes"):
        await make_remote_harness(config, make_client, demo_catalogue)
