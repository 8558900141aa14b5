"""The content words of a sentence, as terms: what the summariser counts and compares.

Words are lower-cased and stop words (the Snowball lists for English and Russian,
plus the fillers of spoken English that transcripts are full of) are dropped.
Russian words lose their case and number endings (a light stemmer in the manner of
Dolamic and Savoy's, as Lucene's RussianLightStemmer does), so "санкции", "санкций"
and "санкциями" count as one term: a Russian noun has a dozen forms, and without
this a statement's subject would be spread over all of them. English words are
kept as written: on QMSum's train split a Snowball stemmer (PyStemmer) made the
summaries no better (R-1 0.245 with it, 0.257 without), so it would be a
dependency that earns nothing. The language of a text is guessed from its letters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[a-zA-Z]")
# Enough letters to tell the script; reading more only costs time.
_SAMPLE = 4000

_STOP_EN = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be
    because been before being below between both but by can can't cannot could
    couldn't did didn't do does doesn't doing don't down during each even ever every
    few for from further get gets getting got had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's
    i i'd i'll i'm i've if in into is isn't it it's its itself just let let's like
    made make many may me might more most much must mustn't my myself no nor not now
    of off on once one only or other ought our ours ourselves out over own per quite
    rather really same say said says see seen shall shan't she she'd she'll she's
    should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those though
    through to too under until up upon us very was wasn't we we'd we'll we're we've
    well were weren't what what's when when's where where's whether which while who
    who's whom why why's will with won't would wouldn't yes yet you you'd you'll
    you're you've your yours yourself yourselves
    actually already also although among another anyone anything around away back
    certainly clearly course done else enough especially etc going gone great indeed
    kind know known lot lots maybe mean obviously oh ok okay perhaps please point
    right simply sort still sure thank thanks thing things think thought today
    together tomorrow want wanted way ways whatever yesterday
    mr mrs ms dr hon chair chairman madam sir
    """.split()
)  # fmt: skip
_STOP_RU = frozenset(
    """
    а без более бы был была были было быть в вам вас весь во вот все всего всех вы
    где да даже для до его ее её если есть еще ещё же за здесь и из или им их к
    как какая какой когда кто ли либо между меня мне много может можно мой моя мы
    на над надо наш наша наше наши не него нее неё нет ни них но ну о об однако он
    она они оно от очень по под после потом потому при про раз с сам свой себе себя
    со так также такой там те тем то тогда того тоже той только том тот тут ты у
    уже хотя чего чем что чтобы чтоб эта эти это этого этой этом этот я
    будет будем будут быть было есть нам нас ним ними своей своих свою своё свои
    которая которые который которого которой котором которых сейчас всё всем весьма
    говоря сказать хочу хотел хотела хотелось хотим спасибо уважаемые уважаемый
    господин госпожа коллеги
    """.split()
)  # fmt: skip
STOP_WORDS = _STOP_EN | _STOP_RU

# Case and number endings of Russian nouns and adjectives, longest first.
_RUSSIAN_ENDINGS = tuple(
    sorted(
        """
        иями ями ами иях ях ах ием ем ом ам ям ией ей ой ий ый ого его ому ему ыми ими
        ых их ая яя ое ее ую юю ов ев иям ия ию ие ии ью а я ы и о е у ю ь
        """.split(),
        key=len,
        reverse=True,
    )
)  # fmt: skip
_SHORTEST_RUSSIAN_STEM = 3


def detect_language(text: str) -> str:
    """ "ru" when Cyrillic letters outnumber Latin ones in the text's start, else "en"."""
    sample = text[:_SAMPLE]
    return "ru" if len(_CYRILLIC.findall(sample)) > len(_LATIN.findall(sample)) else "en"


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, in order (numbers and hyphenated words kept whole)."""
    return _WORD.findall(text.lower().replace("’", "'"))


class Stems:
    """Stems of content words, remembered: a long transcript repeats its words a lot."""

    def __init__(self) -> None:
        self._known: dict[str, str | None] = {}

    def of(self, sentence_words: Iterable[str]) -> list[str]:
        """The stems of the content words among `sentence_words` (stop words and
        one-letter words dropped), in order, repeats kept."""
        known = self._known
        stems: list[str] = []
        for word in sentence_words:
            stem = known.get(word, "")
            if stem == "":
                stem = self._stem(word)
                known[word] = stem
            if stem is not None:
                stems.append(stem)
        return stems

    @staticmethod
    def _stem(word: str) -> str | None:
        if len(word) < 2 or word in STOP_WORDS or word.isdigit():
            return None
        if _CYRILLIC.search(word):
            return russian_stem(word)
        return word


def russian_stem(word: str) -> str:
    """`word` without its case and number ending, ё read as е ("санкциями" -> "санкц")."""
    word = word.replace("ё", "е")
    for ending in _RUSSIAN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _SHORTEST_RUSSIAN_STEM:
            return word[: -len(ending)]
    return word
