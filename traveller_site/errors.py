"""The site's errors (rendered as problem+json like every other package's)."""

from __future__ import annotations

from oura.errors import ServiceUnavailable

__all__ = ["WebShopClosed"]


class WebShopClosed(ServiceUnavailable):
    """The web shop sells nothing yet: no authority to sell for, or ticketing still starting."""

    code = "web_shop_closed"
    retry_after_s = 30
