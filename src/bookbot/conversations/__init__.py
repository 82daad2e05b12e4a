"""Channel-agnostic dialogues: an `Inbound` in, `Reply`s out, state kept in the database.

Handlers (Telegram, SMS, the terminal shell) translate their updates into `Inbound`s,
call `Dialogues.handle`, and render the replies; no business rule lives above this layer.
"""
