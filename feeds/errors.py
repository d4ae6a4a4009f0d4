"""Errors of the feeds package that reach a user (HTTP or CLI). Bad feed *data* is never an error:
it is an `Issue` in a `ValidationReport`."""

from __future__ import annotations

from oura.errors import Conflict, NotFound, ServiceUnavailable, UnprocessableEntity

__all__ = ["UnknownAuthority", "UnknownNetwork", "UnknownFeedVersion", "NoRegistry", "HubsNotReady",
           "InvalidDisruption", "UnknownDisruptionReference", "UnknownDisruption", "DisruptionEnded",
           "DisruptionKeyReused", "StaticFeedNotReady"]


class UnknownAuthority(NotFound):
    """No authority with this id in the registry."""

    code = "unknown_authority"


class UnknownNetwork(NotFound):
    """No network (feed) with this id in the registry."""

    code = "unknown_network"


class UnknownFeedVersion(NotFound):
    """No feed version with this id."""

    code = "unknown_feed_version"


class NoRegistry(ServiceUnavailable):
    """No authority registry is configured (set OURA_REGISTRY or [feeds] registry)."""

    code = "no_registry"


class HubsNotReady(ServiceUnavailable):
    """The interchange hubs are computed after the first ingestion round; retry in a moment."""

    code = "hubs_not_ready"
    retry_after_s = 10


# --- operator disruptions (feeds.disruptions) -------------------------------------------------


class InvalidDisruption(UnprocessableEntity):
    """The disruption is not valid (the field named says why)."""

    code = "invalid_disruption"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", extra={"invalid_params": [{"name": field, "reason": reason}]})
        self.field = field


class UnknownDisruptionReference(InvalidDisruption):
    """A stop, route or trip the disruption names is not in the served static feed."""

    code = "unknown_disruption_reference"


class UnknownDisruption(NotFound):
    """No disruption with this id (or one of another authority)."""

    code = "unknown_disruption"


class DisruptionEnded(Conflict):
    """This disruption has ended; it can no longer be changed."""

    code = "disruption_ended"


class DisruptionKeyReused(Conflict):
    """This Idempotency-Key was already used by this key for a different disruption."""

    code = "disruption_key_reused"


class StaticFeedNotReady(ServiceUnavailable):
    """The network's static feed is not indexed yet; retry in a moment."""

    code = "static_feed_not_ready"
    retry_after_s = 10
