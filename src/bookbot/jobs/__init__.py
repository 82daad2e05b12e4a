"""Scheduled work: APScheduler only ticks; each tick runs idempotent sweeps."""
