"""Local feed server on 127.0.0.1 (fixtures)."""
