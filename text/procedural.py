"""What a summary leaves out: speaker labels, courtesies, procedure and bare questions.

Transcripts of speeches, briefings and hearings open with thanks and greetings,
are cut into turns by speaker labels and are driven by questions and by the chair's
procedure. None of that says what was said, so the summariser never picks it. Each
rule has a name (the reason reported when a sentence is skipped) and works on
English and Russian. A sentence is judged after its opening connective and form of
address are set aside ("So, colleagues, thank you…" is thanks).
"""

from __future__ import annotations

import re

GREETING = "greeting"
THANKS = "thanks"
APOLOGY = "apology"
INTEREST = "declaration of interest"
TRANSLATION = "translation note"
DATELINE = "dateline"
QUESTION = "question"
PROCEDURE = "procedure"
HOUSEKEEPING = "housekeeping"

# A paragraph that opens (or closes) the statement with one of these is
# ceremony through: its other sentences go too, but for a line of the agenda.
CEREMONY = frozenset({GREETING, THANKS, APOLOGY, PROCEDURE, HOUSEKEEPING})

_I = re.IGNORECASE
# Procedure is short: a long sentence that starts like procedure usually goes on to
# say what the item is ("We'll move on to item 2, our scrutiny of the strategy…").
_LONGEST_PROCEDURE = 16

# A speaker label: names and titles (capitalised words, maybe with bracketed
# constituency or party) before a colon, at a paragraph's start.
_LABEL = re.compile(r"^([^:]{1,160}?):\s+(?=\S)")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_LABEL_WORD = re.compile(r"^(?:[A-ZА-ЯЁ][\w.'’-]*|of|the|de|da|van|von|der|bin|al|la|le)$")
_LONGEST_LABEL_WORDS = 6

_LEADING = re.compile(
    r"(?:(?:and|so|but|well|now|okay|ok|oh|right|yes|finally|first(?:ly)?|once again|again|"
    r"also|therefore|then|indeed|и|итак|а|но|ну|также|ещё раз|еще раз|наконец|прежде всего)"
    r"\b,?\s+"
    r"|(?:dear |my )?(?:mr\.?|madam|madame|mister)\s+(?:chair(?:man|woman|person)?|speaker|"
    r"president|minister|secretary[- ]general|deputy minister)\s*,\s*"
    r"|(?:dear |distinguished |my |honourable |honorable |hon\. )?(?:colleagues|friends|"
    r"ladies and gentlemen|excellenc(?:y|ies)|chair|minister|members)\s*,\s*"
    r"|(?:уважаем\w+|дорог\w+)\s+(?:[\w-]+\s+){0,3}?(?:коллеги|друзья|господа|дамы и господа|"
    r"[А-ЯЁ]\w+\s+[А-ЯЁ]\w+)\s*[,!]\s*"
    r"|(?:коллеги|друзья|дамы и господа)\s*,\s*)",
    _I,
)

# How a sentence opens: judged on its core, from its first word.
_OPENINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        TRANSLATION,
        re.compile(
            r"(?:unofficial translation|translated from|translation from|check against delivery|"
            r"as prepared for delivery|неофициальный перевод|перевод с \w+ языка)",
            _I,
        ),
    ),
    (
        GREETING,
        re.compile(
            r"(?:good (?:morning|afternoon|evening|day)|hello|greetings|welcome|bore da|"
            r"prynhawn da|(?:i am|i'm|we are|we're) (?:now )?(?:very |so |most |truly )?(?:pleased|"
            r"delighted|glad|happy|honou?red|privileged) to (?:be |welcome|see|have|join|address|"
            r"speak|open|take part|participate|rise|present|meet|answer|take (?:any |your )?"
            r"questions)|it is (?:a |an |my |our )?(?:great |real |special |genuine )?(?:pleasure|"
            r"honou?r|privilege)|it's (?:a |an )?(?:great |real )?(?:pleasure|honou?r|privilege)|"
            r"let me (?:first )?(?:welcome|greet)|i (?:would like|want|wish) to (?:welcome|greet)|"
            r"ladies and gentlemen|добрый (?:день|вечер)|доброе утро|здравствуйте|приветствую|"
            r"дамы и господа|рад\w* (?:приветствовать|видеть|вас видеть|возможности|встрече)|"
            r"позвольте (?:мне )?(?:приветствовать|поприветствовать))",
            _I,
        ),
    ),
    (
        THANKS,
        re.compile(
            r"(?:thank(?:s| you)\b|many thanks|(?:i|we) (?:would |'d )?(?:like to |want to |wish "
            r"to |must |should )?(?:also |first |once again )?(?:thank|express (?:my |our )?"
            r"(?:gratitude|appreciation|thanks))|let me (?:also |first |once again )?(?:thank|"
            r"express)|(?:i am|i'm|we are|we're) (?:very |most |deeply |truly )?grateful|"
            r"i appreciate (?:the |this |your )?(?:invitation|opportunity)|"
            r"(?:i|we) (?:would |'d )?like to (?:begin|start) by thanking|"
            r"спасибо|благодарю|большое спасибо|позвольте (?:мне )?(?:поблагодарить|выразить)|"
            r"(?:хотел|хотела|хотели|хочу|хотим)(?: бы)? (?:\w+ ){0,3}?(?:поблагодарить|выразить "
            r"(?:благодарность|признательность))|признател\w+|искренне благодар)",
            _I,
        ),
    ),
    (
        APOLOGY,
        re.compile(
            r"(?:(?:i|we)(?:'ve| have)? (?:received|had|got) (?:no |any )?apologies|apologies|"
            r"(?:i|we) (?:apologi[sz]e|am sorry|'m sorry|are sorry)|sorry\b|excuse me|"
            r"извините|прошу прощения|приношу извинения)",
            _I,
        ),
    ),
)
_PROCEDURE = re.compile(
    r"(?:i call (?:this|the) meeting to order|(?:we'll|we will) call (?:this|the) meeting to "
    r"order|(?:this|the) (?:committee|meeting|sitting|session) (?:is|stands) (?:now )?(?:adjourned|"
    r"suspended|resumed|closed|open)|(?:we|i)(?:'ll| will| shall)? (?:now )?(?:proceed|move on|go|"
    r"turn|continue|resume|suspend)|(?:let's|let us) (?:now )?(?:move|go|turn|proceed)|"
    r"(?:the )?next (?:question|speaker|petition|intervention)|(?:please )?go ahead|"
    r"the floor is yours|over to you|you have (?:the floor|\w+ (?:seconds|minutes))|"
    r"(?:your|the) time (?:is up|has expired)|(?:can|could|may) (?:we|i) (?:move|go) on|"
    r"in accordance with standing order|(?:i|we) (?:will|'ll) (?:now )?(?:take|have) (?:a )?"
    r"(?:short )?(?:break|recess)|that (?:concludes|brings us to the end)|order, please|"
    r"объявляю \w+ (?:открыт|закрыт)\w*|переходим к|следующий вопрос|слово (?:предоставляется|"
    r"имеет)|пожалуйста, (?:ваш вопрос|вопрос))",
    _I,
)

# What a sentence says anywhere in it. Each rule has cues (lower-case substrings)
# that must occur for its pattern to be tried, which keeps a long transcript fast.
_ANYWHERE: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    (
        APOLOGY,
        ("apolog", "unable to"),
        re.compile(
            r"\bapologies (?:for absence|have been received|from)\b|\bsent (?:his |her |their )?"
            r"apologies\b|\bunable to (?:attend|be with us|join us)\b",
            _I,
        ),
    ),
    (
        HOUSEKEEPING,
        (
            "video", "microphone", "earpiece", "headset", "audio", "mute", "interpretation",
            "translation", "remind", "through the chair", "televised", "broadcast", "webcast",
            "participating", "перевод", "микрофон",
        ),
        re.compile(
            r"\b(?:video ?conferenc\w*|microphones?|earpieces?|headsets?|floor audio|unmute|"
            r"simultaneous (?:interpretation|translation)|interpretation (?:channel|is available)|"
            r"remind (?:all )?(?:members|participants|you|everyone)|"
            r"reminder to (?:all )?(?:members|participants)|"
            r"direct (?:your|their) (?:remarks|questions|comments) through the chair|"
            r"(?:televised|broadcast|webcast) (?:live|in the same way)|members participating "
            r"(?:in person|virtually|remotely|by video)|синхронн\w+ перевод\w*|микрофон\w*)\b",
            _I,
        ),
    ),
    (
        INTEREST,
        ("declar", "interest", "интерес"),
        re.compile(
            r"\bdeclar\w* (?:of |any |an? |their |registrable )*interests?\b|"
            r"\bconflicts? of interest\b|конфликт\w* интерес",
            _I,
        ),
    ),
)  # fmt: skip

# A line of the agenda says what a meeting is about: never procedure, even when it
# is said in the same breath as the welcome.
_AGENDA_CUES = (
    "item", "purpose", "subject", "topic", "focus", "theme", "session", "inquiry", "agenda",
    "discuss", "consider", "examin", "look at", "evidence", "meeting", "today we",
    "повестк", "посвящ", "тем", "обсуд", "рассмотр",
)  # fmt: skip
_AGENDA = re.compile(
    r"\b(?:agenda )?item (?:\d+|one|two|three|four|five|six)\b|"
    r"\b(?:purpose|subject|topic|focus|theme) of (?:this|the|today's|our) (?:meeting|session|"
    r"hearing|briefing|discussion|conference|talks|visit)\b|\b(?:evidence|scrutiny) session\b|"
    r"\binquiry into\b|\bon (?:the|our|today's) agenda\b|"
    r"\b(?:we|the committee) (?:are|is|will be) (?:here )?(?:to )?(?:discuss|consider|examin|look "
    r"at|take evidence|meeting (?:today )?to)\w*|"
    r"\btoday we (?:will )?(?:discuss|consider|talk about|focus on|look at)\b|"
    r"повестк\w* дня|посвящ\w+|\bтем\w* (?:нашей |сегодняшней |этой )?(?:встречи|беседы|"
    r"заседания|переговоров|брифинга)|\b(?:обсудили|обсудим|рассмотрели|рассмотрим)\b",
    _I,
)
_SHORTEST_AGENDA = 6
_ALL_CUES = tuple(sorted({*_AGENDA_CUES, *(cue for _, cues, _ in _ANYWHERE for cue in cues)}))

_DATELINE = re.compile(
    r"[A-ZА-ЯЁ][\w .'’-]{1,40},\s*(?:\d{1,2}\s+[^\W\d_]+\.?|[^\W\d_]+\.?\s+\d{1,2})"
    r"(?:,?\s*\d{4})?(?:\s*(?:г\.|года))?\.?$"
)
_QUESTION_END = re.compile(r"\?[\"'”’»)\]]*$")


def split_label(paragraph: str) -> tuple[str | None, str]:
    """(speaker, what they said) for a paragraph opening with "Name (Party): …";
    (None, paragraph) otherwise."""
    found = _LABEL.match(paragraph)
    if found is None:
        return None, paragraph
    label = found.group(1)
    bare = label
    while True:  # nested brackets: "The Chair (Hon. A. Rota (Nipissing, Lib.))"
        shorter = _BRACKETED.sub(" ", bare)
        if shorter == bare:
            break
        bare = shorter
    names = bare.split()
    if not names or len(names) > _LONGEST_LABEL_WORDS or any("(" in w or ")" in w for w in names):
        return None, paragraph
    if not all(_LABEL_WORD.match(w) for w in names) or not names[0][0].isupper():
        return None, paragraph
    return label.strip(), paragraph[found.end() :]


def core(sentence: str) -> str:
    """The sentence without its opening connectives and forms of address."""
    while (found := _LEADING.match(sentence)) and found.end():
        sentence = sentence[found.end() :]
    return sentence


def is_agenda(sentence: str) -> bool:
    """The sentence names the business of the meeting ("Item 2 is our scrutiny of …")."""
    return _is_agenda(sentence, _cues_in(sentence))


def skip_reason(sentence: str) -> str | None:
    """Why a summary should not use this sentence, or None when it may."""
    stripped = sentence.strip()
    if _QUESTION_END.search(stripped):
        return QUESTION
    if _DATELINE.match(stripped):
        return DATELINE
    cues = _cues_in(stripped)
    if _is_agenda(stripped, cues):
        return None
    body = core(stripped)
    for reason, opening in _OPENINGS:
        if opening.match(body):
            return reason
    if len(body.split()) <= _LONGEST_PROCEDURE and _PROCEDURE.match(body):
        return PROCEDURE
    for reason, rule_cues, pattern in _ANYWHERE:
        if not cues.isdisjoint(rule_cues) and pattern.search(body):
            return reason
    return None


def _cues_in(sentence: str) -> set[str]:
    # One pass over every rule's cues: most sentences have none, and then no
    # pattern that needs one is tried.
    lowered = sentence.lower()
    return {cue for cue in _ALL_CUES if cue in lowered}


def _is_agenda(sentence: str, cues: set[str]) -> bool:
    return (
        not cues.isdisjoint(_AGENDA_CUES)
        and len(sentence.split()) >= _SHORTEST_AGENDA
        and _AGENDA.search(sentence) is not None
    )
