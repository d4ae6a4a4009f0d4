"""Journey planning over the merged feeds, with realtime (see README.md).

Public API by module (imported explicitly, so that using the pure core does not load aiohttp):
`journey_planner.core` (`plan`, `PlanRequest`, `Place`, `Timetable`), `journey_planner.compile`
(`load_network`, `compile_network`, `FeedSource`, `Network`), `journey_planner.realtime`
(`apply_trip_updates`), `journey_planner.snapshot` (`Snapshot`, `SnapshotHolder`),
`journey_planner.service` (`PlannerService`), `journey_planner.pricing` (`JourneyPricing`),
`journey_planner.http` (`routes`), `journey_planner.startup` (`PLANNER`, `planner_context`),
`journey_planner.cli` (`register`).
"""
