"""Devices of the networks: vending machines and validators (registration, offline sales, deny-list
acknowledgements, heartbeats)."""
