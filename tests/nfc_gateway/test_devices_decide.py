"""decide_new_sales (pure): which offline window a sale counts in, at its edges, and the order the
credit is counted in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nfc_gateway.devices.offline_sales import decide_new_sales, parse_offline_sale
from nfc_gateway.devices.registry import DeviceSettings
from nfc_gateway.devices.repository import DeviceRow
from tests.ticketing.conftest import REGION_AUTHORITIES, region_catalogue  # noqa: F401 - fixture

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
TCL = {"fare_product_id": "tcl:single", "fare_media_id": "paper"}  # 210


def machine(limit: int) -> DeviceRow:
    return DeviceRow(device_id=1, authority_id="sytral", kind="vending_machine", label="vm", key_id="k",
                     offline_credit_limit_minor=limit, created_at=T0, revoked_at=None, last_contact_at=None,
                     last_heartbeat_at=None, reported_last_sequence=None, denylist_version=0, denylist_acked_at=None)


def sale(sequence: int, sold_at: datetime):
    return parse_offline_sale({"sequence": sequence, "sold_at": sold_at.isoformat(), "lines": [TCL],
                               "payment": {"method": "cash", "amount_minor": 210}})


@pytest.fixture
def decide(region_catalogue):  # noqa: F811
    window = (T0 + timedelta(hours=1), T0 + timedelta(hours=2))

    def run(sales, limit=210, used=None):
        return decide_new_sales(sales, device=machine(limit), windows=[window], credit_used=used or {},
                                catalogue=region_catalogue, network_authority=REGION_AUTHORITIES,
                                now=T0 + timedelta(hours=3), settings=DeviceSettings())

    return run, window


def test_a_sale_at_the_last_contact_is_online_and_one_at_the_reconnection_is_offline(decide):
    run, (offline_from, online_again_at) = decide
    at_contact, at_return = run([sale(1, offline_from), sale(2, online_again_at)], limit=0)
    assert (at_contact.window_from, at_contact.refusal_code) == (None, None)
    assert at_return.refusal_code == "offline_credit_exceeded"


def test_the_credit_is_counted_by_sequence_not_by_the_order_sent(decide):
    run, (offline_from, _) = decide
    inside = offline_from + timedelta(minutes=5)
    decisions = run([sale(2, inside), sale(1, inside + timedelta(minutes=1))])
    assert [(d.sale.sequence, d.refusal_code) for d in decisions] == [(1, None), (2, "offline_credit_exceeded")]
    assert decisions[0].window_from == offline_from


def test_credit_used_before_the_upload_counts(decide):
    run, (offline_from, _) = decide
    (decision,) = run([sale(3, offline_from + timedelta(minutes=1))], limit=400, used={offline_from: 200})
    assert decision.refusal_code == "offline_credit_exceeded"
