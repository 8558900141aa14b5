"""What summaries leave out: speaker labels, courtesies, procedure, bare questions."""

from __future__ import annotations

import pytest

from text import procedural
from text.procedural import split_label


@pytest.mark.parametrize(
    ("paragraph", "speaker", "said"),
    [
        (
            "The Chair (Hon. Anthony Rota (Nipissing, Lib.)): I call this meeting to order.",
            "The Chair (Hon. Anthony Rota (Nipissing, Lib.))",
            "I call this meeting to order.",
        ),
        ("Sergey Lavrov: Great minds think alike.", "Sergey Lavrov", "Great minds think alike."),
        ("Question: Will there be sanctions?", "Question", "Will there be sanctions?"),
        ("С.В.Лавров: Добрый день.", "С.В.Лавров", "Добрый день."),
        ("Мария Захарова: Начну с Сирии.", "Мария Захарова", "Начну с Сирии."),
    ],
)
def test_speaker_labels_are_split_off(paragraph: str, speaker: str, said: str) -> None:
    assert split_label(paragraph) == (speaker, said)


@pytest.mark.parametrize(
    "paragraph",
    [
        "The answer is simple: we stay.",
        "Moscow, October 2, 2021: the talks began.",
        "Russia and China: partners in the region.",
        "No colon here at all.",
    ],
)
def test_a_colon_in_prose_is_no_label(paragraph: str) -> None:
    assert split_label(paragraph) == (None, paragraph)


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("Thank you for inviting me.", procedural.THANKS),
        ("So, colleagues, thank you for your tips.", procedural.THANKS),
        ("Therefore, I would like to thank you once again for inviting me.", procedural.THANKS),
        ("Good morning, everyone.", procedural.GREETING),
        ("Mr. Chair, it is a real pleasure to be here.", procedural.GREETING),
        ("We've received apologies for absence from Suzy Davies.", procedural.APOLOGY),
        ("Can I ask whether Members want to declare any interests, please?", procedural.QUESTION),
        ("There are no declarations of interest this morning.", procedural.INTEREST),
        ("Unofficial translation", procedural.TRANSLATION),
        ("Moscow, October 2, 2021", procedural.DATELINE),
        ("Москва, 2 октября 2021 года", procedural.DATELINE),
        ("I call this meeting to order.", procedural.PROCEDURE),
        ("We'll now proceed to the presenting of petitions.", procedural.PROCEDURE),
        ("Please direct your remarks through the chair.", procedural.HOUSEKEEPING),
        ("What is the Welsh Government doing about childcare?", procedural.QUESTION),
        ("Благодарю за приглашение выступить.", procedural.THANKS),
        ("Добрый день, уважаемые коллеги!", procedural.GREETING),
        ("Уважаемые дамы и господа, рад видеть вас.", procedural.GREETING),
        ("Неофициальный перевод", procedural.TRANSLATION),
        ("Переходим к вопросам журналистов.", procedural.PROCEDURE),
        ("Будут ли новые санкции против России?", procedural.QUESTION),
    ],
)
def test_ceremony_procedure_and_questions_are_skipped(sentence: str, reason: str) -> None:
    assert procedural.skip_reason(sentence) == reason


@pytest.mark.parametrize(
    "sentence",
    [
        "The traditional balance of power will not bring about a lasting solution.",
        "We'll move on, then, to item 2, which is our scrutiny of the 'Healthy Weight: Healthy "
        "Wales' draft strategy, and I'm very pleased to welcome the Chief Medical Officer.",
        "Thanksgiving trade fell by a third this year.",
        "The sorry state of the talks worries everyone in the region.",
        "Санкции стали для Запада привычным инструментом давления.",
        "Мы провели переговоры с министром иностранных дел Франции.",
    ],
)
def test_content_is_kept(sentence: str) -> None:
    assert procedural.skip_reason(sentence) is None
