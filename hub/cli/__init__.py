"""The `kopilka` command: hub.cli.main builds it from the groups of hub.cli.* and the adapters' own.
This package's __init__ stays empty so that importing a group never imports them all."""
