"""EA Elektro-Automatik instruments (PSB 10000 bidirectional DC supply)."""
