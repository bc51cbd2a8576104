"""МойСклад adapter: the Loyalty API 1.0 server (the till calls the hub during every sale)
and the JSON API 1.2 client (webhooks on retail sales and returns, documents fetched and
applied from the inbox). See moysklad/README.md."""
