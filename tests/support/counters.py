"""The seed page's two counters and its daily message, to the character: what the
daily-message, /counters and schedule tests all compare against."""

from __future__ import annotations

from datetime import date

from storage.models import Counter
from tests.support.rig import ADMIN, Rig

SALISBURY = Counter(
    1,
    date(2018, 3, 4),
    "Europe/Moscow",
    "{days} days have passed since the Salisbury incident - no credible information "
    "or response from the British authorities",
    1,
)
GLUSHKOV = Counter(
    2,
    date(2018, 3, 12),
    "Europe/Moscow",
    "{days} days have passed since the death of Nikolay Glushkov on British soil - "
    "no credible information or response from the British authorities",
    2,
)
SEED_COUNTERS = [SALISBURY, GLUSHKOV]

# The seed page's message at 07:30 in Moscow on 3 December 2021 (the rig's clock).
GOLDEN = """\
3 December 2021
Moscow: 07:30
London: 04:30

1370 days have passed since the Salisbury incident - no credible information or response from the British authorities
1362 days have passed since the death of Nikolay Glushkov on British soil - no credible information or response from the British authorities"""  # noqa: E501


async def add_seed_counters(rig: Rig) -> None:
    """Both seed counters, added by the admin with /addcounter."""
    for counter in SEED_COUNTERS:
        added = await rig.reply_to(
            ADMIN,
            ADMIN,
            f"/addcounter {counter.start_date.isoformat()} {counter.timezone} {counter.template}",
        )
        assert (added.plain_text or "").startswith("Added counter")
