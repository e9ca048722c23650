"""The `incidents` command line. It calls the store and the flows; Prefect is imported only when orchestrating."""
