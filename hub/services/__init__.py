"""One function per business operation; each owns its database transaction."""
