"""E-mail for outbox notices: render (pure), transport (SMTP or log), worker (delivery and retries)."""
