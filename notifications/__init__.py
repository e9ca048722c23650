"""Messages: rendering from templates, and delivery of the outbox (SMTP or files). Knows no flow."""
