"""Runtime settings: where things live (environment) and who the parties are (a YAML file)."""
