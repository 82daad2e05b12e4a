"""bookbot: a booking assistant for studios that lives in chat."""

__version__ = "0.1.0"
