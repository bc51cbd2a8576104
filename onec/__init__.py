"""1С adapter: 1С's own «Сервер лояльности» HTTP protocol (the hub as the discount and
bonus source of an unmodified cash desk), SOAP with a static WSDL for extensions, the
CommerceML «Обмен с сайтом» catalog exchange and OData reconciliation of posted receipts.
Every address starts with /onec/<connection id>; see onec/README.md."""
