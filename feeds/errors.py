"""Errors of the feeds package that reach a user (HTTP or CLI). Bad feed *data* is never an error:
it is an `Issue` in a `ValidationReport`."""

from __future__ import annotations

from oura.errors import NotFound, ServiceUnavailable

__all__ = ["UnknownAuthority", "UnknownNetwork", "UnknownFeedVersion", "NoRegistry", "HubsNotReady"]


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
