"""Channel adapters: translate updates into `Inbound`s, call `Dialogues.handle`, render replies."""
