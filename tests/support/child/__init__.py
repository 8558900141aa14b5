"""What every process the tests start loads first (see sitecustomize.py here)."""
