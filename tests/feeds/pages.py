"""The saved test pages of tests/data/pages and the addresses they are served from."""

from __future__ import annotations

from pathlib import Path

PAGES = Path(__file__).parent.parent / "data" / "pages"

# Each page with the URL it is read as coming from (relative links resolve there).
URLS = {
    "seed_home.html": "https://embassy.example/en/",
    "press_table.html": "https://www.ministry.example/press/releases",
    "cards_time.html": "https://consulate.example/news",
    "sidebar_heavy.html": "https://embassy.example/statements",
    "layout_v1.html": "https://mission.example/news",
    "layout_v2.html": "https://mission.example/news",
    "russian_list.html": "https://embassy.example/ru/news",
    "flat_list.html": "https://spokesperson.example/press",
    "article.html": "https://embassy.example/en/news/7099",
    "article_divs.html": "https://mid.example/ru/briefings/18-11-2021",
    "login.html": "https://press.example/statements",
    "search.html": "https://ministry.example/search",
    "not_found.html": "https://embassy.example/en/news/9999",
    "with_feeds.html": "https://embassy.example/en/",
    "wordpress_list.html": "https://commission.example/news/",
}


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()
