"""Alembic environment: runs on the connection handed over by models.db.migrate."""

from alembic import context
from sqlmodel import SQLModel

import models.access  # noqa: F401
import models.attachments  # noqa: F401
import models.breach  # noqa: F401  (register tables)
import models.checkpoints  # noqa: F401
import models.engine_pass  # noqa: F401
import models.incident  # noqa: F401
import models.obligation  # noqa: F401
import models.outbox  # noqa: F401
import models.report  # noqa: F401
import models.timeline  # noqa: F401

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run through models.db.migrate, which provides the connection")

context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
