"""Calypso Intercode (EN 1545) card records: decode and encode."""
