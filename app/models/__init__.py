"""All tables, imported here so alembic and the tests see the whole metadata (one module an aggregate)."""

from app.models.registry import import_all

import_all()
