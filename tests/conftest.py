"""Shared fixtures: each rig module registers its own as a pytest plugin."""

pytest_plugins = [
    "tests.fake_bot_api",
    "tests.feed_server",
    "tests.harness",
]
