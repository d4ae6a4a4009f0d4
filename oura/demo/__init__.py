"""The generated demo region: realistic GTFS + Fares v2 feeds, a registry and a live GTFS-RT server.

See README.md in this folder. Public API: `generate_region`, `RegionSummary`, `FeedSummary`,
`create_realtime_app`, `serve_realtime`.
"""

from oura.demo.generate import FeedSummary, RegionSummary, generate_region

__all__ = ["FeedSummary", "RegionSummary", "generate_region", "create_realtime_app", "serve_realtime"]


def __getattr__(name: str):
    # the realtime server pulls aiohttp and protobuf in; import it only when asked for
    if name in ("create_realtime_app", "serve_realtime"):
        from oura.demo import realtime

        return getattr(realtime, name)
    raise AttributeError(name)
