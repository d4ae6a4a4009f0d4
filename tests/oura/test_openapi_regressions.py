"""Bugs that schemathesis found (tests/oura/test_openapi_schemathesis.py), one test each."""

from __future__ import annotations

import pytest

from ticketing.errors import InvalidEvents
from ticketing.validation import parse_events


def _event(**changes):
    return {"event_id": "e1", "medium": "C0", "time": "2026-03-02T07:00:00+01:00", "stop_id": "tcl:s",
            "route_id": "tcl:C3", **changes}


@pytest.mark.parametrize("direction", [False, True, "0", 0.5, 2])
def test_a_validation_event_direction_is_0_or_1_not_a_boolean(direction):
    # JSON false == 0 in Python: the event was accepted as direction 0 though the document says 0 or 1
    with pytest.raises(InvalidEvents):
        parse_events({"events": [_event(direction_id=direction)]})


@pytest.mark.parametrize("direction", [0, 1, None])
def test_a_validation_event_direction_may_be_0_1_or_absent(direction):
    (event,) = parse_events({"events": [_event(direction_id=direction)]})
    assert event.direction_id == direction


@pytest.mark.parametrize("email", [False, {}, [], 0])
def test_a_holder_email_that_is_not_text_is_refused_before_the_database(email):
    # a falsy non-string passed the check and reached PostgreSQL, whose refusal became a generic 400
    from ticketing.errors import InvalidOrder
    from ticketing.media import parse_medium_request

    with pytest.raises(InvalidOrder) as refused:  # the request is parsed before the use case runs
        parse_medium_request({"kind": "smartcard", "holder": {"display_name": "A. Holder", "email": email}})
    assert refused.value.code == "invalid_medium"
