"""An admin whose chat reads Russian runs the bot in Russian (issue 17): feeds,
previews and their buttons, /feedstatus, /stats, OPML, channels, refusals and usage
lines, and the alerts that reach them. What servers and parsers said (an HTTP
status, an XML parser's complaint) is quoted as it came, inside a Russian frame.
Next to them an English admin sees exactly what they saw before."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.commands import button, check_output, current, press, text
from tests.support.feeds import html_list, sample_feed, statements_of_the_seed
from tests.support.languages import speak
from tests.support.page_site import HTML, serve_list
from tests.support.rig import ADMIN, OTHER, USER, Rig

CHANNEL = -1001234567890


async def test_feeds_in_russian(rig: Rig) -> None:
    await speak(rig, ADMIN, "ru")
    assert text(await rig.reply_to(ADMIN, ADMIN, "/feedstatus")) == (
        "Лент пока нет. Добавьте ленту командой /addfeed URL."
    )
    assert text(await rig.reply_to(ADMIN, ADMIN, "/addfeed")) == (
        "Формат: /addfeed URL [TITLE] — например, /addfeed https://example.org/feed.xml"
    )
    rig.feeds.set("/a.xml", sample_feed(1, items=2), etag='"a"')
    added = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/a.xml')}")
    assert text(added).splitlines() == [
        "Лента 1 добавлена: Feed 1",
        "Сохранено заявлений, которые в ней уже были: 2; ни одно не разослано. Новые"
        " заявления будут приходить подписчикам.",
    ]
    again = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/a.xml')}")
    assert text(again) == "Эта лента уже есть: лента 1. Ничего не изменилось."
    rig.feeds.set_status("/gone.xml", 404)
    failed = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/gone.xml')}")
    # The server's words stay as they came.
    assert text(failed).startswith(
        f"Не добавлено: не удалось загрузить {rig.feeds.url('/gone.xml')}: HTTP 404"
    )

    status = text(await rig.reply_to(ADMIN, ADMIN, "/feedstatus")).splitlines()
    assert status[0] == "1. Feed 1 — в порядке"
    assert status[2].startswith("последний успех: 2021-12-03 04:30; следующий опрос: ")
    assert status[3] == "заявлений: 2; подписчиков: 0"

    assert text(await rig.reply_to(ADMIN, ADMIN, "/pausefeed 1")) == (
        "Лента 1, Feed 1, приостановлена: её не опрашивают до команды /resumefeed."
    )
    assert text(await rig.reply_to(ADMIN, ADMIN, "/resumefeed x")) == (
        "Формат: /resumefeed FEED_ID — номера лент есть в /feedstatus."
    )
    assert text(await rig.reply_to(ADMIN, ADMIN, "/resumefeed 1")) == (
        "Лента 1, Feed 1, снова опрашивается."
    )
    assert text(await rig.reply_to(ADMIN, ADMIN, "/pausefeed 9")) == "Ленты 9 нет."
    assert text(await rig.reply_to(ADMIN, ADMIN, "/pollnow")) == (
        "Опрошено лент: 1 (изменились — 0, без изменений — 1, с ошибкой — 0); новых"
        " заявлений: 0; доставок в очереди: 0 (по одной на чат и заявление; если их больше"
        " 5 сразу, чат получит их одной сводкой)."
    )

    ask = await rig.reply_to(ADMIN, ADMIN, "/removefeed 1")
    assert text(ask) == (
        "Удалить ленту 1, Feed 1? Подписчики перестанут её получать; её заявления останутся"
        " доступны для поиска."
    )
    assert [b["text"] for b in ask.buttons] == ["Удалить", "Оставить"]
    assert await press(rig, ask, ADMIN, button(ask, "Оставить")) == "Оставлена"
    assert text(current(rig, ask)) == "Лента 1 оставлена."
    ask = await rig.reply_to(ADMIN, ADMIN, "/removefeed 1")
    assert await press(rig, ask, ADMIN, button(ask, "Удалить")) == "Удалена"
    assert text(current(rig, ask)) == "Лента 1 удалена. Её заявления остаются доступны для поиска."
    assert await press(rig, ask, ADMIN, "rf:y:1", forge=True) == "Этой ленты уже нет."
    assert await press(rig, ask, ADMIN, "rf:?:1", forge=True) == "Эта кнопка больше не действует."
    await check_output(rig)


async def test_feedstatus_pages_in_russian(rig: Rig) -> None:
    await speak(rig, ADMIN, "ru")
    pairs = []
    for n in range(1, 13):
        rig.feeds.set(f"/f{n}.xml", sample_feed(n, items=1))
        pairs.append((rig.feeds.url(f"/f{n}.xml"), None))
    await rig.services.store.add_feeds(pairs)
    first = await rig.reply_to(ADMIN, ADMIN, "/feedstatus")
    assert text(first).startswith("Ленты, страница 1 из 2\n\n1. ")
    assert "последний успех: никогда" in text(first)
    assert [b["text"] for b in first.buttons] == ["Далее ▶"]
    await press(rig, first, ADMIN, button(first, "Далее"))
    second = current(rig, first)
    assert text(second).startswith("Ленты, страница 2 из 2\n\n11. ")
    assert [b["text"] for b in second.buttons] == ["◀ Назад"]
    await check_output(rig)


async def test_a_page_preview_and_its_buttons_in_russian(rig: Rig) -> None:
    await speak(rig, ADMIN, "ru")
    entries = statements_of_the_seed(20)
    serve_list(rig.feeds, entries)
    url = rig.feeds.url("/news")

    preview = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")

    lines = text(preview).splitlines()
    assert lines[:3] == [
        f"Найдено 5 заявлений на {url} (Embassy statements), список определён автоматически.",
        "Страница не указывает ленту (проверено 6 адресов лент): её список читается прямо со"
        " страницы.",
        "Список продолжается на других страницах: при добавлении будет прочитано ещё до 2 страниц.",
    ]
    days = ["3 декабря", "2 декабря", "1 декабря", "30 ноября", "29 ноября"]
    assert [line for line in lines if line.startswith("• ")] == [
        f"• {day} 2021 — {entry.title}" for day, entry in zip(days, entries, strict=False)
    ]
    assert "Как они найдены:" in lines
    # How the list was found is the detector's own words.
    assert "5 statements in div.news-list > div.news-item, inside body > div#content >" in (
        text(preview)
    )
    assert lines[-1] == (
        "Добавить? Заявления со страницы будут сохранены сейчас без рассылки; каждое новое придёт"
        " подписчикам с текстом своей страницы."
    )
    assert [b["text"] for b in preview.buttons] == ["Добавить как источник", "Отмена"]

    cancelled = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
    assert await press(rig, cancelled, ADMIN, button(cancelled, "Отмена")) == "Отменено"
    assert text(current(rig, cancelled)) == f"Не добавлено: {url}. Ничего не изменилось."

    add = button(preview, "Добавить")
    assert await press(rig, preview, ADMIN, add) == "Добавление…"
    assert text(current(rig, preview)).splitlines() == [
        "Веб-страница 1 добавлена как источник: Embassy statements",
        "Сохранено заявлений: 15, страниц списка прочитано: 3; ни одно не разослано. Каждое"
        " новое заявление придёт подписчикам с текстом своей страницы.",
    ]
    stale = await press(rig, preview, ADMIN, add, forge=True)
    assert stale == "Эта кнопка больше не действует."

    refused = await rig.reply_to(ADMIN, ADMIN, f"/addpage {url} item=li::text")
    assert text(refused).startswith("Формат: /addpage URL item=CSS")
    # The selector parser's complaint as it words it, then ours.
    assert "\nitem=li::text is not a valid CSS selector" in text(refused)
    assert text(refused).endswith("Ничего не изменилось.")
    await check_output(rig)


async def test_a_page_naming_several_feeds_in_russian(rig: Rig) -> None:
    await speak(rig, ADMIN, "ru")
    alternate = '<link rel="alternate" type="application/rss+xml" title="{n}" href="/f{n}.xml">'
    head = "".join(alternate.format(n=n) for n in (1, 2))
    rig.feeds.set("/news", html_list(statements_of_the_seed(4), head=head), content_type=HTML)
    for n in (1, 2):
        rig.feeds.set(f"/f{n}.xml", sample_feed(n, items=1))
    choice = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/news')}")
    assert text(choice).splitlines()[0] == (
        f"{rig.feeds.url('/news')} указывает 2 ленты. Какую добавить?"
    )
    assert [b["text"] for b in choice.buttons][-1] == "Отмена"
    await press(rig, choice, ADMIN, button(choice, "2."))
    assert text(current(rig, choice)).splitlines()[:2] == [
        "Лента 1 добавлена: Feed 2",
        f"Страница указывает эту ленту: {rig.feeds.url('/f2.xml')}",
    ]
    await check_output(rig)


async def test_stats_in_russian(rig: Rig) -> None:
    rig.feeds.set("/feed.xml", sample_feed(1, items=2), etag='"1"')
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')}")
    await rig.reply_to(ADMIN, ADMIN, "/addcounter 2018-03-04 Europe/Moscow {days} days since")
    await speak(rig, ADMIN, "ru")
    await rig.reply_to(USER, USER, "/subscribe all")
    lines = text(await rig.reply_to(ADMIN, ADMIN, "/stats")).splitlines()
    assert lines == [
        "Статистика",
        "Чаты: активных — 2, неактивных — 0",
        "Подписок: 1",
        "Лент: 1; заявлений: 2",
        "За последние 24 часа: отправлено — 0, не доставлено — 0, возможных повторов — 0",
        "Очередь: ждут отправки — 0",
        "Сохранённые поиски: оповещений — 0, фильтров — 0",
        "Ежедневные сводки: чатов — 0, заявлений ждут сводки — 0",
        "Счётчики: 1: {days} days since",
    ]


async def test_refusals_in_the_users_language(rig: Rig) -> None:
    await speak(rig, USER, "ru")
    for command in ("/stats", "/addfeed https://example.org/feed.xml", "/addchannel @news"):
        refused = await rig.reply_to(USER, USER, command)
        assert text(refused) == "Извините, это могут делать только администраторы бота."
    refused = await rig.reply_to(OTHER, OTHER, "/stats")
    assert text(refused) == "Sorry, only the bot's admins can do that."


async def test_opml_in_russian(rig: Rig) -> None:
    await speak(rig, ADMIN, "ru")
    assert text(await rig.reply_to(ADMIN, ADMIN, "/exportopml")) == (
        "Лент пока нет, выгружать нечего. Добавьте ленту командой /addfeed URL."
    )
    rig.feeds.set("/known.xml", sample_feed(1))
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/known.xml')}")
    content = (
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline type="rss" text="Known" xmlUrl="{rig.feeds.url("/known.xml")}"/>'
        '<outline type="rss" text="New" xmlUrl="https://other.example/feed"/>'
        '<outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/>'
        '<outline type="html" text="Page" htmlUrl="https://other.example/news"'
        ' selectors="item=li::text"/>'
        "</body></opml>"
    ).encode()
    before = len(rig.api.messages(ADMIN))
    rig.api.send_document(ADMIN, ADMIN, "feeds.opml", content, mime_type="text/x-opml")
    [summary] = (await rig.api.wait_for_messages(ADMIN, before + 1))[before:]
    lines = text(summary).splitlines()
    assert lines == [
        "Импорт: feeds.opml",
        "Добавлено: 1; уже были: 1; отклонено: 2.",
        "Новые: 2. New.",
        "Они будут загружены при следующем опросе (/pollnow — опросить сейчас); их нынешние"
        " заявления сохраняются без рассылки.",
        "Отклонены:",
        "• javascript:alert(1): не адрес http(s)",
        # The selector parser's complaint as it words it.
        "• https://other.example/news: неверные селекторы: item=li::text is not a valid CSS"
        " selector: Pseudo-elements are not supported.",
    ]

    before = len(rig.api.messages(ADMIN))
    rig.api.send_document(ADMIN, ADMIN, "feed.xml", sample_feed(1), mime_type="text/xml")
    [answer] = (await rig.api.wait_for_messages(ADMIN, before + 1))[before:]
    assert text(answer) == (
        "Не импортировано: feed.xml: это не файл OPML: корневой элемент — <rss>."
        " Ничего не изменилось."
    )
    sent = await rig.reply_to(ADMIN, ADMIN, "/exportopml")
    assert sent.caption == "2 ленты. Чтобы импортировать ленты, отправьте этот файл боту."


async def test_channels_in_russian_and_a_channel_in_russian(rig: Rig) -> None:
    rig.feeds.set("/f1.xml", sample_feed(1, items=2), etag='"1"')
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/f1.xml')}")
    await rig.reply_to(ADMIN, ADMIN, "/addcounter 2018-03-04 Europe/Moscow {days} days since")
    await rig.reply_to(
        ADMIN, ADMIN, "/countertext 1 ru {прошёл|прошло|прошло} {days} {день|дня|дней}"
    )
    await speak(rig, ADMIN, "ru")
    rig.api.add_chat(CHANNEL, "channel", title="Новости", username="newschan")

    usage = await rig.reply_to(ADMIN, ADMIN, "/addchannel")
    assert text(usage) == (
        "Формат: /addchannel @name|-100… [FEED_ID…|all] — например, /addchannel @mychannel all"
        " или /addchannel -1001234567890 1 3\n\nКаналов пока нет."
    )
    unknown = await rig.reply_to(ADMIN, ADMIN, "/addchannel @nosuchchannel")
    assert text(unknown).startswith(
        "Не добавлено. Telegram не показывает боту канал @nosuchchannel (Chat not found)."
    )
    added = await rig.reply_to(ADMIN, ADMIN, "/addchannel @newschan")
    assert text(added).splitlines() == [
        "Теперь канал получает новые заявления (новые подписки: 1).",
        "Новости (@newschan)",
        "ленты: 1; ежедневное сообщение: 09:00 Europe/London",
        "",
        "Ежедневное сообщение: /settings @newschan time 08:00 zone Europe/London или daily"
        " off. Остановить: /removechannel @newschan",
    ]
    for command, reason in [
        ("/settings @newschan language de", "«de» — не язык бота; языки: en, ru"),
        ("/settings @newschan colour blue", "«colour» — не настройка"),
        ("/settings @newschan time", "укажите значение каждой настройки"),
    ]:
        refused = await rig.reply_to(ADMIN, ADMIN, command)
        assert text(refused).startswith("Формат: /settings @channel"), command
        assert reason in text(refused), command
        assert text(refused).endswith("Ничего не изменилось."), command

    saved = await rig.reply_to(
        ADMIN, ADMIN, "/settings @newschan time 07:30 zone Europe/Moscow language ru"
    )
    assert text(saved).splitlines() == [
        "Сохранено.",
        "Новости (@newschan)",
        "ленты: 1; ежедневное сообщение: 07:30 Europe/Moscow; язык: ru",
    ]
    assert (await rig.services.store.get_chat(CHANNEL)).language == "ru"
    # The channel's daily message is in its language.
    rig.clock.set(datetime(2021, 12, 3, 4, 30, tzinfo=UTC))
    await rig.run_job("daily")
    await rig.wait_delivered()
    [daily] = rig.texts(CHANNEL)
    assert daily == "3 декабря 2021\nМосква: 07:30\nЛондон: 04:30\n\nпрошло 1370 дней"

    # An English admin reads the same channel in English, with its language.
    await speak(rig, ADMIN, "en")
    shown = await rig.reply_to(ADMIN, ADMIN, "/settings @newschan")
    assert text(shown).splitlines() == [
        "Settings of the channel:",
        "Новости (@newschan)",
        "feeds: 1; daily message: 07:30 Europe/Moscow; language: ru",
    ]
    await speak(rig, ADMIN, "ru")
    partly = await rig.reply_to(ADMIN, ADMIN, "/removechannel @newschan 1")
    assert text(partly).splitlines()[0] == "Остановлены ленты: 1."
    gone = await rig.reply_to(ADMIN, ADMIN, "/removechannel @newschan")
    assert text(gone) == (
        "Канал Новости (@newschan) удалён: у него было 0 подписок, больше он не получит ни"
        " заявлений, ни ежедневных сообщений."
    )
    again = await rig.reply_to(ADMIN, ADMIN, "/removechannel @newschan")
    assert text(again) == "@newschan не входит в каналы бота. Ничего не изменилось."
