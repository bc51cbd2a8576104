"""Evotor adapter: the Evotor cloud's webhooks (users, installation, subscription, documents),
the terminal app's API (customers, quote with a hold, commit, release, payback) and the cloud
API client (catalog and documents for reconciliation). Every address starts with /evotor;
see evotor/README.md."""
