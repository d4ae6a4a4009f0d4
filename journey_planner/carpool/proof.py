"""Completed carpool trips in the proof register's journey format (v3.3, ``POST /journeys``), pure.

OùRA sends the trips of the journeys drivers published through it (it is their operator; the
other operators send theirs). A booking carried out becomes one register journey (what is sent is
the VALIDATED ones, once: `proof_export`; a COMPLETED_PENDING_VALIDATION one may still be
cancelled):

- ``operator_journey_id``: the booking's UUID without hyphens (the register wants ``[a-z0-9]``);
  ``operator_trip_id``: the driver journey's id, folded the same way (its passengers share it);
- ``operator_class``: ``A`` by default: OùRA has the booking and both sides' word, not the
  geolocated proof of presence the higher classes need;
- ``start`` / ``end``: pickup and drop points; times in UTC, the pickup time and pickup +
  duration (the register's example: ``2021-01-01T11:00:00Z``);
- identities as OùRA keeps them (`identity`): ``phone_trunc``, ``identity_key``,
  ``operator_user_id``; the passenger's ``travel_pass`` is their OùRA card (``name`` is
  ``travel_pass_name``, ``user_id`` the card's serial);
- money in euro cents: the passenger's ``contribution`` is the price times the seats, the
  driver's ``revenue`` the same (no commission, no incentive: ``incentives`` is empty).

The stored v3.3 document enumerates one travel pass name only (``navigo``): a journey carrying
an OùRA card is refused there on that one member until the register lists OùRA's card. Export
with ``travel_pass_name=None`` leaves the card out and is valid as the document stands.

A trip without both identities (a phone and a last name given) cannot be sent: it is skipped,
with the reason, in `ProofExport.skipped`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ProofExport", "register_journey", "export_journeys"]


@dataclass(frozen=True, slots=True)
class ProofExport:
    journeys: tuple[dict[str, Any], ...]
    skipped: tuple[tuple[str, str], ...]  # (booking id, why)
    booking_ids: tuple[str, ...] = ()  # the booking of each journey, in the same order


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())[:256] or "0"


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cents(price: Mapping[str, Any] | None) -> int:
    amount = (price or {}).get("amount")
    return int(round(float(amount) * 100)) if amount is not None else 0


def register_journey(row: Mapping[str, Any], *, operator_class: str = "A",
                     travel_pass_name: str | None = "oura") -> dict[str, Any]:
    """One completed booking (a row of ``list_completed_hosted``) as a register journey; KeyError
    names what is missing."""
    booking, offer = row["booking"], row["offer"]
    for name in ("passenger_phone_trunc", "passenger_identity_key", "driver_phone_trunc", "driver_identity_key"):
        if not row.get(name):
            raise KeyError(name)
    pickup = int(booking["passengerPickupDate"])
    duration = int(booking.get("duration") or offer.get("duration") or 0)
    seats = int(row["seats"])
    contribution = _cents(booking.get("price")) * seats
    passenger_identity: dict[str, Any] = {"operator_user_id": booking["passenger"]["id"],
                                          "identity_key": row["passenger_identity_key"],
                                          "phone_trunc": row["passenger_phone_trunc"]}
    if travel_pass_name is not None and row.get("medium_serial"):
        passenger_identity["travel_pass"] = {"name": travel_pass_name, "user_id": row["medium_serial"]}
    return {
        "operator_journey_id": _fold(str(row["booking_id"])),
        "operator_trip_id": _fold(str(offer.get("id") or booking.get("driverJourneyId") or row["booking_id"])),
        "operator_class": operator_class,
        "incentives": [],
        "start": {"datetime": _iso(pickup), "lat": booking["passengerPickupLat"], "lon": booking["passengerPickupLng"]},
        "end": {"datetime": _iso(pickup + duration), "lat": booking["passengerDropLat"],
                "lon": booking["passengerDropLng"]},
        "distance": int(booking.get("distance") or offer.get("distance") or 0),
        "driver": {"identity": {"operator_user_id": booking["driver"]["id"], "identity_key": row["driver_identity_key"],
                                "phone_trunc": row["driver_phone_trunc"]},
                   "revenue": contribution},
        "passenger": {"identity": passenger_identity, "contribution": contribution, "seats": seats},
    }


def export_journeys(rows: Iterable[Mapping[str, Any]], *, operator_class: str = "A",
                    travel_pass_name: str | None = "oura") -> ProofExport:
    journeys, skipped, booking_ids = [], [], []
    for row in rows:
        try:
            journeys.append(register_journey(row, operator_class=operator_class, travel_pass_name=travel_pass_name))
        except KeyError as missing:
            skipped.append((str(row["booking_id"]), f"no {missing.args[0]} (a phone and a last name are needed)"))
        else:
            booking_ids.append(str(row["booking_id"]))
    return ProofExport(tuple(journeys), tuple(skipped), tuple(booking_ids))
