"""What every POS adapter shares: receipt mapping, the connection registry, the inbound-event
inbox and the outbound HTTP client. Adapters translate wire formats; rules live in hub/."""
