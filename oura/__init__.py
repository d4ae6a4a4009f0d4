"""OùRA: one backend for a region's pooled public transport."""

__version__ = "0.1.0"
