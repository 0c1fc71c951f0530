"""ITECH instruments (IT6000C bidirectional DC supply)."""
