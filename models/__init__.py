"""The store: the single source of truth. It knows no orchestrator and no screen."""
