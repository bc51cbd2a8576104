"""Analytics: indicators from append-only deltas folded into daily rollups (specs/analytics.md)."""
