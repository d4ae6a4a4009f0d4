"""GTFS and GTFS-realtime ingestion for the region's authorities (see feeds/README.md).

Public API (what other packages may import): the registry model, the validation report, the
current-version listing for the planner, id namespacing, and the links between networks (walking transfers, hubs).
`repository`, `queries.sql` and `gtfs.rules` internals are private to the package.
"""

from feeds.authorities import Authority, Network, RealtimeSources, Registry, RegistryError, load_registry
from feeds.gtfs.issues import Issue, IssueCode, Severity
from feeds.namespace import namespace_id, namespace_tables
from feeds.repository import CurrentFeed, list_current_feeds
from feeds.validate import ValidationReport, validate_feed, validate_path

__all__ = [
    "Authority",
    "CurrentFeed",
    "Issue",
    "IssueCode",
    "Network",
    "RealtimeSources",
    "Registry",
    "RegistryError",
    "Severity",
    "ValidationReport",
    "list_current_feeds",
    "load_registry",
    "namespace_id",
    "namespace_tables",
    "validate_feed",
    "validate_path",
]
