"""Carpool: operators' offers, matching, booking."""
