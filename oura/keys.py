"""Typed keys of the foundation's shared state on the aiohttp application.

Packages read these in their handlers (``request.app[POOL]``); each domain package declares its
own keys (its service objects) in its ``http.py``, and `oura.app` fills them. Nothing is global.
"""

from __future__ import annotations

import aiohttp
import asyncpg
from aiohttp import web

from .clock import Clock
from .config import Config
from .http.health import Readiness
from .http.metrics import Metrics

__all__ = ["CONFIG", "CLOCK", "POOL", "METRICS", "READINESS", "HTTP_CLIENT"]

CONFIG = web.AppKey("oura.config", Config)
CLOCK = web.AppKey("oura.clock", Clock)
POOL = web.AppKey("oura.pool", asyncpg.Pool)
METRICS = web.AppKey("oura.metrics", Metrics)
READINESS = web.AppKey("oura.readiness", Readiness)
HTTP_CLIENT = web.AppKey("oura.http_client", aiohttp.ClientSession)
