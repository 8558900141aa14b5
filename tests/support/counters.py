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


# The same counters' Russian texts (the embassy's own wording on its Russian page),
# and the message a Russian reader gets at the same moment.
SALISBURY_RU = (
    "С инцидента в Солсбери {прошёл|прошло|прошло} {days} {день|дня|дней} - никакой "
    "достоверной информации или ответа от британских властей"
)
GLUSHKOV_RU = (
    "Со дня гибели Николая Глушкова на британской земле {прошёл|прошло|прошло} {days} "
    "{день|дня|дней} - никакой достоверной информации или ответа от британских властей"
)
GOLDEN_RU = """\
3 декабря 2021
Москва: 07:30
Лондон: 04:30

С инцидента в Солсбери прошло 1370 дней - никакой достоверной информации или ответа от британских властей
Со дня гибели Николая Глушкова на британской земле прошло 1362 дня - никакой достоверной информации или ответа от британских властей"""  # noqa: E501
