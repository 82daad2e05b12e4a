"""The booking domain's pure rules.

Nothing here touches a database, a network, the environment or the wall clock:
functions take plain data and `now`, and return decisions or raise `BookingError`s.
`tests/engine/test_purity.py` walks this package's imports to keep it so.
"""
