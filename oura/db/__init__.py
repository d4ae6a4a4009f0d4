"""Database foundation: embedded server, pool, migrations."""

from .migrate import apply_migrations, list_migrations
from .pool import create_pool, transaction

__all__ = ["apply_migrations", "list_migrations", "create_pool", "transaction"]
