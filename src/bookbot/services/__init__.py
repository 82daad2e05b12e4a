"""Use cases: each public function runs one operation in one database transaction.

Services read facts, hand them to the pure rules in `bookbot.engine`, and write the
result. Every query is scoped by `studio_id`. No network I/O happens inside a
transaction.
"""
