"""The reliability suite: crashes, API faults, hostile feeds and users (issue 11)."""
