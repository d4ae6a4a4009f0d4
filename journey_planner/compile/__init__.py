"""GTFS feeds -> one `Timetable` of flat arrays plus the id/name lookup tables (`Network`).

One module per concern, in the order a compile runs them:

- `network`: `Network`, `CompileOptions`, `FeedSource`, `CompileReport`;
- `cache`: `load_network`, the on-disk ``.npz`` cache keyed by the feeds' content hashes;
- `build`: `compile_network`, which merges the feeds' stops and routes and calls the steps below;
- `calendars`: services on one day axis, agency time zones, "noon minus 12 h" day origins;
- `trips`: stop_times checked and sorted, frequencies expanded, missing times interpolated;
- `patterns`: patterns and the FIFO split (`fifo_split`, shared with realtime);
- `footpaths`: walking transfers and change times at stops (transfers.txt stop rows);
- `transfer_rules`: transfers.txt rows naming routes or trips.

Each module's docstring states the decisions it takes.
"""

from .build import compile_network
from .cache import feed_content_hash, load_network
from .network import CompileOptions, CompileReport, FeedSource, Network
from .patterns import fifo_split

__all__ = [
    "CompileOptions",
    "CompileReport",
    "FeedSource",
    "Network",
    "compile_network",
    "load_network",
    "feed_content_hash",
    "fifo_split",
]
