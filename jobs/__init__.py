"""Scheduled work: fetching and parsing feeds, delivery, the daily message."""
