"""A software Calypso-like card and secure module, behind the interfaces a real reader and SAM use."""
