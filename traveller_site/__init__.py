"""The OùRA traveller site, served at ``/``: plan, map, follow and buy, on the public API.

The page (static/index.html and the bundle built from web/ into static/dist) calls the same
``/v1`` routes any app calls. Buying goes through the site's web shop (`shop`), one sales point
of the region's authority, like a vending machine or a desk: what the site sells is an ordinary
``web`` order.
"""
