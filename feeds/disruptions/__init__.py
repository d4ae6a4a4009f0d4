"""Operator disruptions: what an authority declares (closed stops, cut routes, cancelled trips,
replacement buses), stored, audited, applied to routing and republished as GTFS-realtime."""
