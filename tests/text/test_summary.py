"""Summaries as a subscriber reads them: the lead when it says something, else the
sentences of the statement that do, within the budget, without ceremony."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.parse import parse_feed
from text.summary import EXTRACT, LEAD, explain, lead, summarise

SEED_FEED = Path(__file__).parents[2] / "bot" / "data" / "seed_feed.xml"

PRESS_RELEASE = "\n\n".join(
    [
        "On 12 November the Third Committee of the UN General Assembly adopted the resolution "
        "on combating the glorification of Nazism, initiated by the Russian Federation. It was "
        "supported by 121 states, 53 voted against and 8 abstained.",
        "The resolution condemns the glorification of the Nazi movement and of former members "
        "of the Waffen-SS, including by erecting monuments and holding public demonstrations. "
        "It calls on states to take effective measures against such practices.",
        "We regret that the United Kingdom, the United States and the member states of the "
        "European Union again voted against the document. Their position contradicts the "
        "verdict of the Nuremberg Tribunal and the memory of the victims of the Second World "
        "War, whose outcome is enshrined in the UN Charter.",
        "The resolution will be considered at a plenary meeting of the General Assembly in "
        "December, where we expect it to be adopted by a large majority.",
        "Thank you for your attention.",
    ]
)

BRIEFING = "\n\n".join(
    [
        "Moderator: Good afternoon, ladies and gentlemen. Welcome to the briefing. The "
        "spokeswoman will start with the situation around grain exports.",
        "Spokeswoman: Thank you. Good afternoon. It is a pleasure to see so many of you here.",
        "The grain corridor in the Black Sea remains blocked because the guarantees given to "
        "us for the export of Russian grain and fertilisers have not been honoured. Ships "
        "carrying grain to the poorest countries are still waiting in the ports. We have "
        "repeatedly said that the grain deal was a package and that both of its parts must "
        "work.",
        "The restrictions on insurance, on payments and on port calls for Russian ships make "
        "the export of grain and fertilisers impossible in practice. The poorest countries of "
        "Africa and Asia suffer most from the blocked grain exports, and the prices of grain "
        "on the world market keep rising.",
        "Question: Will Russia return to the grain deal if these demands are met?",
        "Spokeswoman: We are ready to return to the grain deal as soon as the guarantees for "
        "Russian grain and fertiliser exports are implemented in full. The UN Secretary-General "
        "knows our position on the grain corridor well.",
        "Question: And what about the talks in Istanbul?",
        "Spokeswoman: The talks in Istanbul on the grain corridor will resume next week at "
        "the level of experts.",
        "Moderator: Thank you. That concludes today's briefing. See you next week.",
    ]
)

Q_AND_A = "\n\n".join(
    [
        "Question: How do you assess the decision of the British authorities to expel two "
        "Russian diplomats?",
        "Answer: We regard the expulsion of the diplomats as an unfriendly and groundless step "
        "that will not remain without a response. The British side has not presented any "
        "evidence to support its accusations against the diplomats.",
        "Question: Has the embassy received any explanation from the Foreign Office?",
        "Answer: No explanation was given to the embassy. The Foreign Office limited itself to "
        "a formal note, and the embassy has demanded a meeting to receive the evidence.",
        "Question: Will the embassy continue its consular work?",
        "Answer: The consular section of the embassy continues to work as usual, and Russian "
        "citizens in the United Kingdom can apply for documents without delay.",
    ]
)

RUSSIAN = "\n\n".join(
    [
        "Неофициальный перевод",
        "Москва, 2 октября 2021 года",
        "С.В.Лавров: Добрый день, уважаемые коллеги! Благодарю за приглашение выступить на "
        "вашем собрании. Рад видеть в зале много молодых лиц.",
        "Мы провели переговоры с министром иностранных дел Франции. Основное внимание уделили "
        "ситуации на Украине и выполнению Минских договорённостей. Подчеркнули, что "
        "альтернативы Минским договорённостям нет и что Киев должен вести прямой диалог с "
        "Донецком и Луганском.",
        "Обсудили также положение в Ливии, Сирии и вокруг иранской ядерной программы. "
        "Договорились продолжить консультации по стратегической стабильности и по Ливии.",
        "Вопрос: Будут ли новые санкции против России?",
        "С.В.Лавров: Санкции стали для Запада привычным инструментом давления. Мы давно "
        "научились жить в условиях санкций и будем защищать интересы наших граждан и "
        "компаний. Разговор с позиции силы с Россией не получится.",
        "Спасибо за внимание.",
    ]
)


def _lavrov_remarks() -> str:
    feed = parse_feed(SEED_FEED.read_bytes(), url="https://embassy.example/rss", headers={})
    speech = next(e for e in feed.entries if "29th Assembly of the Council" in e.title)
    return speech.content


def _sentences_in_order(summary: str, text: str) -> None:
    """Every sentence of an extract is the statement's own, in the statement's order."""
    flat = " ".join(text.split())
    at = 0
    for sentence in explain(text).sentences:
        if sentence.chosen:
            found = flat.find(sentence.text, at)
            assert found >= 0, sentence.text
            at = found + len(sentence.text)
            assert sentence.text in summary


# --- which way a statement goes ---------------------------------------------------------


def test_a_short_statement_keeps_its_lead_even_when_it_opens_with_thanks() -> None:
    text = "Thank you for your question.\n\nThe embassy has not received any request."
    assert summarise(text) == lead(text) == "Thank you for your question."
    assert explain(text).mode == LEAD


def test_a_news_style_statement_keeps_its_lead_exactly() -> None:
    assert len(PRESS_RELEASE) > 900
    summary = summarise(PRESS_RELEASE)
    assert summary == lead(PRESS_RELEASE)
    assert summary == PRESS_RELEASE.split("\n\n")[0]
    assert explain(PRESS_RELEASE).why == "opens with a lead"


def test_a_statement_under_a_heading_is_summarised_from_its_body() -> None:
    text = "On the grain corridor\n\n" + BRIEFING.replace("Spokeswoman: ", "").replace(
        "Moderator: ", ""
    )
    explanation = explain(text)
    assert explanation.mode == EXTRACT
    assert "On the grain corridor" not in explanation.summary


# --- transcripts ------------------------------------------------------------------------


def test_a_briefing_gives_what_was_said_without_ceremony_labels_or_questions() -> None:
    summary = summarise(BRIEFING)
    assert explain(BRIEFING).mode == EXTRACT
    assert len(summary) <= 400
    assert "grain" in summary
    for ceremony in ("Thank you", "Good afternoon", "Welcome", "pleasure", "concludes"):
        assert ceremony not in summary
    for label in ("Moderator:", "Spokeswoman:", "Question:"):
        assert label not in summary
    assert "?" not in summary
    _sentences_in_order(summary, BRIEFING)


def test_a_q_and_a_gives_answers_not_questions() -> None:
    summary = summarise(Q_AND_A)
    assert "?" not in summary
    assert "Question" not in summary and "Answer:" not in summary
    assert "expulsion of the diplomats" in summary
    _sentences_in_order(summary, Q_AND_A)


def test_a_russian_transcript_is_summarised_in_russian_without_ceremony() -> None:
    explanation = explain(RUSSIAN)
    summary = explanation.summary
    assert explanation.language == "ru"
    assert explanation.mode == EXTRACT
    assert len(summary) <= 400
    for ceremony in ("Добрый день", "Благодарю", "Рад видеть", "Спасибо", "перевод", "Москва, 2"):
        assert ceremony not in summary
    assert "С.В.Лавров" not in summary and "Вопрос" not in summary and "?" not in summary
    assert "Минских договорённостей" in summary
    assert "санкций" in summary
    _sentences_in_order(summary, RUSSIAN)


def test_the_lavrov_remarks_say_what_the_speech_is_about_without_courtesies() -> None:
    remarks = _lavrov_remarks()
    explanation = explain(remarks)
    summary = explanation.summary
    assert explanation.mode == EXTRACT
    assert len(summary) <= 400
    for courtesy in (
        "Thank you for inviting me",
        "I am no stranger",
        "I stood at its origins",
        "young faces",
        "Great minds think alike",
        "thank you for your tips",
        "roused my curiosity",
    ):
        assert courtesy not in summary
    # The speech is about the passage to a multipolar world order.
    assert "multipolarity" in summary
    assert "world order" in summary
    _sentences_in_order(summary, remarks)


def test_the_explanation_says_why_each_sentence_was_skipped() -> None:
    reasons = {s.text: s.skipped for s in explain(_lavrov_remarks()).sentences}
    assert reasons["Thank you for inviting me."] == "thanks"
    assert reasons["I am no stranger to the Council on Foreign and Defence Policy."] == (
        "courtesy opening"
    )
    assert reasons["You have roused my curiosity."] == "courtesy closing"
    chosen = [s for s in explain(_lavrov_remarks()).sentences if s.chosen]
    assert chosen and all(s.skipped is None and s.score > 0 for s in chosen)


# --- the budget and determinism ---------------------------------------------------------


@pytest.mark.parametrize("limit", [2, 3, 40, 120, 250, 400, 1000])
def test_the_budget_is_never_exceeded(limit: int) -> None:
    for text in (BRIEFING, Q_AND_A, RUSSIAN, PRESS_RELEASE, _lavrov_remarks()):
        summary = summarise(text, limit)
        assert 0 < len(summary) <= limit


def test_one_enormous_sentence_is_cut_at_a_word_with_an_ellipsis() -> None:
    text = "Speaker: Good morning.\n\n" + "Speaker: " + " ".join(["negotiations"] * 300) + "."
    summary = summarise(text, 100)
    assert len(summary) <= 100
    assert summary.endswith("negotiations…")


_TRANSCRIPT_PARTS = st.sampled_from(
    [
        "Chair: Good morning, everyone.",
        "Minister: Thank you, Chair.",
        "Question: What about the sanctions on grain exports?",
        "Minister: The sanctions on grain exports hurt the poorest countries most of all.",
        "Minister: We will defend the interests of our grain exporters in every forum.",
        "Член комиссии: Санкции против экспорта зерна вредят беднейшим странам.",
        "Minister: " + "Exports " * 80 + "fell.",
        "Неофициальный перевод",
        "Moscow, October 2, 2021",
    ]
)


@given(st.lists(_TRANSCRIPT_PARTS, min_size=1, max_size=40), st.integers(2, 600))
def test_any_transcript_fits_any_budget(parts: list[str], limit: int) -> None:
    text = "\n\n".join(parts)
    summary = summarise(text, limit)
    assert len(summary) <= limit
    assert summarise(text, limit) == summary


def test_the_same_text_gives_the_same_summary() -> None:
    remarks = _lavrov_remarks()
    first = explain(remarks)
    for _ in range(3):
        again = explain(remarks)
        assert again.summary == first.summary
        assert again.sentences == first.sentences


def test_the_language_can_be_given_and_must_be_known() -> None:
    assert summarise(RUSSIAN, language="ru") == summarise(RUSSIAN)
    with pytest.raises(ValueError, match="language"):
        summarise(RUSSIAN, language="de")
    with pytest.raises(ValueError, match="limit"):
        summarise(RUSSIAN, 1)
