"""The schema as an ordered list of migrations; `PRAGMA user_version` holds the version.

Each migration runs in one transaction together with its version bump, so a crash
leaves the database at the old version or the new one, never in between. Times are
stored as Unix seconds (REAL, UTC); calendar dates as 'YYYY-MM-DD'; times of day
as 'HH:MM'.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: feeds, statements, chats, subscriptions and the delivery outbox.
    """
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,                  -- FEED_ID, as users type it
        url TEXT NOT NULL UNIQUE,                -- fetched URL; follows permanent redirects
        title TEXT NOT NULL DEFAULT '',          -- the feed's own title, or the admin's
        title_locked INTEGER NOT NULL DEFAULT 0, -- 1: the admin named it; polls keep that name
        etag TEXT,                               -- ETag byte for byte as the server sent it
        last_modified TEXT,                      -- Last-Modified byte for byte as sent
        content_hash TEXT,                       -- sha256 of the last body; same body, no parse
        next_poll_at REAL,                       -- when to poll next; NULL: as soon as possible
        consecutive_failures INTEGER NOT NULL DEFAULT 0, -- failed polls since the last success
        last_error TEXT,                         -- the latest failure, readable by an admin
        last_error_at REAL,                      -- when that failure happened
        last_success_at REAL,                    -- last poll that got a feed (200 or 304)
        paused INTEGER NOT NULL DEFAULT 0,       -- 1: not polled (admin's pause, or 410 Gone)
        removed INTEGER NOT NULL DEFAULT 0,      -- 1: removed by an admin; statements stay
        failure_alerted INTEGER NOT NULL DEFAULT 0, -- 1: admins were told it is failing
        created_at REAL NOT NULL                 -- when it was added
    );

    CREATE TABLE items (
        id INTEGER PRIMARY KEY,                  -- statement id; also the search rowid
        feed_id INTEGER NOT NULL REFERENCES feeds(id), -- where it was found
        identity TEXT NOT NULL,                  -- sha256 of guid, else link, else title+date+text
        guid TEXT,                               -- the entry's guid/id, if any
        link TEXT,                               -- absolute URL of the statement
        title TEXT NOT NULL,                     -- plain text
        summary TEXT NOT NULL,                   -- the lead, at most 400 characters
        content TEXT NOT NULL,                   -- full plain text, for search
        published_at REAL NOT NULL,              -- the feed's date, else first_seen_at
        first_seen_at REAL NOT NULL,             -- when a poll first stored it
        updated_at REAL NOT NULL,                -- last time its text changed
        UNIQUE (feed_id, identity)
    );
    CREATE INDEX items_by_date ON items (published_at DESC, id DESC);
    CREATE INDEX items_by_feed_date ON items (feed_id, published_at DESC, id DESC);

    CREATE TABLE chats (
        id INTEGER PRIMARY KEY,                  -- Telegram chat id
        type TEXT NOT NULL,                      -- private, group, supergroup or channel
        title TEXT NOT NULL DEFAULT '',          -- chat title or user name, for admins
        timezone TEXT,                           -- IANA zone; NULL: the TIMEZONE setting
        daily_time TEXT,                         -- 'HH:MM' local; NULL: the DAILY_TIME setting
        daily_enabled INTEGER NOT NULL DEFAULT 1,-- 0: no daily message
        active INTEGER NOT NULL DEFAULT 1,       -- 0: blocked us, kicked us or vanished
        inactive_reason TEXT,                    -- why it is inactive
        created_at REAL NOT NULL                 -- first seen
    );

    CREATE TABLE subscriptions (
        chat_id INTEGER NOT NULL                 -- the subscriber
            REFERENCES chats(id) ON UPDATE CASCADE ON DELETE CASCADE,
        feed_id INTEGER NOT NULL                 -- the feed it gets
            REFERENCES feeds(id) ON DELETE CASCADE,
        created_at REAL NOT NULL,                -- when the chat subscribed
        PRIMARY KEY (chat_id, feed_id)
    ) WITHOUT ROWID;
    CREATE INDEX subscriptions_by_feed ON subscriptions (feed_id, chat_id);

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,                  -- also the send order
        chat_id INTEGER NOT NULL                 -- the recipient
            REFERENCES chats(id) ON UPDATE CASCADE ON DELETE CASCADE,
        kind TEXT NOT NULL,                      -- 'item' (a statement) or 'daily'
        item_id INTEGER REFERENCES items(id),    -- the statement, for kind 'item'
        text TEXT,                               -- ready HTML, for kind 'daily'
        digest_key TEXT,                         -- rows sharing it go as one digest message
        state TEXT NOT NULL DEFAULT 'pending',   -- pending, sent, failed or cancelled
        attempts INTEGER NOT NULL DEFAULT 0,     -- sends tried
        not_before REAL,                         -- retry no earlier than this
        in_flight_at REAL,                       -- a send started and its result is unknown
        possible_duplicate INTEGER NOT NULL DEFAULT 0, -- sends of unknown fate (crash, timeout)
        last_error TEXT,                         -- why the last attempt failed, or cancelled
        message_id INTEGER,                      -- Telegram's message id once sent
        created_at REAL NOT NULL,                -- when it was queued
        finished_at REAL,                        -- when it was sent, failed or cancelled
        UNIQUE (chat_id, item_id)
    );
    CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
    CREATE INDEX outbox_by_chat_state ON outbox (chat_id, state);
    CREATE INDEX outbox_finished ON outbox (finished_at) WHERE finished_at IS NOT NULL;
    """,
    # 2: full-text search over statements, backfilled from what is stored.
    """
    CREATE VIRTUAL TABLE items_fts USING fts5 (
        title, summary, content,                 -- copies of the items' columns
        content = 'items', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_fts (rowid, title, summary, content)
        VALUES (new.id, new.title, new.summary, new.content);
    END;
    CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        INSERT INTO items_fts (items_fts, rowid, title, summary, content)
        VALUES ('delete', old.id, old.title, old.summary, old.content);
    END;
    CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary, content ON items BEGIN
        INSERT INTO items_fts (items_fts, rowid, title, summary, content)
        VALUES ('delete', old.id, old.title, old.summary, old.content);
        INSERT INTO items_fts (rowid, title, summary, content)
        VALUES (new.id, new.title, new.summary, new.content);
    END;
    INSERT INTO items_fts (items_fts) VALUES ('rebuild');
    """,
    # 3: counters and the record of daily messages (one per chat and local date).
    """
    CREATE TABLE counters (
        id INTEGER PRIMARY KEY,                  -- COUNTER_ID, as admins type it
        start_date TEXT NOT NULL,                -- 'YYYY-MM-DD', the day counted from
        timezone TEXT NOT NULL,                  -- IANA zone whose calendar counts the days
        template TEXT NOT NULL,                  -- the line, with {days} for the number
        position INTEGER NOT NULL,               -- order in the daily message
        created_at REAL NOT NULL                 -- when an admin added it
    );

    CREATE TABLE daily_sends (
        chat_id INTEGER NOT NULL                 -- the recipient
            REFERENCES chats(id) ON UPDATE CASCADE ON DELETE CASCADE,
        local_date TEXT NOT NULL,                -- the chat's calendar day it was meant for
        outbox_id INTEGER REFERENCES outbox(id), -- the queued message
        created_at REAL NOT NULL,                -- when it was queued
        PRIMARY KEY (chat_id, local_date)
    ) WITHOUT ROWID;
    """,
    # 4: channels an admin made subscribers (the chat row holds their settings).
    """
    CREATE TABLE channels (
        chat_id INTEGER PRIMARY KEY              -- the channel's chat row
            REFERENCES chats(id) ON UPDATE CASCADE ON DELETE CASCADE,
        username TEXT,                           -- @name without the @, if it has one
        added_by INTEGER NOT NULL,               -- the admin's Telegram user id
        added_at REAL NOT NULL                   -- when it was (last) added
    );
    CREATE UNIQUE INDEX channels_by_username ON channels (username COLLATE NOCASE)
        WHERE username IS NOT NULL;
    """,
    # 5: prefix indexes for `prefix*` searches (2 to 6 letters), so a short prefix
    # shared by thousands of words reads one list instead of merging them all.
    """
    DROP TRIGGER items_fts_insert;
    DROP TRIGGER items_fts_delete;
    DROP TRIGGER items_fts_update;
    DROP TABLE items_fts;
    CREATE VIRTUAL TABLE items_fts USING fts5 (
        title, summary, content,
        content = 'items', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '2 3 4 5 6'
    );
    CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_fts (rowid, title, summary, content)
        VALUES (new.id, new.title, new.summary, new.content);
    END;
    CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        INSERT INTO items_fts (items_fts, rowid, title, summary, content)
        VALUES ('delete', old.id, old.title, old.summary, old.content);
    END;
    CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary, content ON items BEGIN
        INSERT INTO items_fts (items_fts, rowid, title, summary, content)
        VALUES ('delete', old.id, old.title, old.summary, old.content);
        INSERT INTO items_fts (rowid, title, summary, content)
        VALUES (new.id, new.title, new.summary, new.content);
    END;
    INSERT INTO items_fts (items_fts) VALUES ('rebuild');
    """,
    # 6: the feed's own <ttl>, which 304s and identical bodies do not repeat, so a
    # restart keeps honouring it.
    """
    ALTER TABLE feeds ADD COLUMN
        ttl_seconds INTEGER;                     -- the feed's <ttl> in seconds; NULL: none
    """,
    # 7: search by word forms. Each text column gets a shadow text of its words'
    # stems (storage/words.py, computed in Python when a statement is stored or
    # changed), indexed by a second FTS5 table; words are looked up there, phrases
    # and prefixes still in items_fts. NULL stems: not yet indexed (rows stored
    # before this version, or written by another program); apply_migrations fills
    # them in batches after this step.
    """
    ALTER TABLE items ADD COLUMN
        title_stems TEXT;                        -- stems of the title's words; NULL: to do
    ALTER TABLE items ADD COLUMN
        summary_stems TEXT;                      -- stems of the summary's words
    ALTER TABLE items ADD COLUMN
        content_stems TEXT;                      -- stems of the content's words
    CREATE INDEX items_unstemmed ON items (feed_id) WHERE title_stems IS NULL;
    CREATE VIRTUAL TABLE items_fts_stems USING fts5 (
        title_stems, summary_stems, content_stems,
        content = 'items', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER items_fts_stems_insert AFTER INSERT ON items
    WHEN new.title_stems IS NOT NULL BEGIN
        INSERT INTO items_fts_stems (rowid, title_stems, summary_stems, content_stems)
        VALUES (new.id, new.title_stems, new.summary_stems, new.content_stems);
    END;
    CREATE TRIGGER items_fts_stems_delete AFTER DELETE ON items
    WHEN old.title_stems IS NOT NULL BEGIN
        INSERT INTO items_fts_stems
            (items_fts_stems, rowid, title_stems, summary_stems, content_stems)
        VALUES ('delete', old.id, old.title_stems, old.summary_stems, old.content_stems);
    END;
    CREATE TRIGGER items_fts_stems_update
    AFTER UPDATE OF title_stems, summary_stems, content_stems ON items BEGIN
        INSERT INTO items_fts_stems
            (items_fts_stems, rowid, title_stems, summary_stems, content_stems)
        SELECT 'delete', old.id, old.title_stems, old.summary_stems, old.content_stems
        WHERE old.title_stems IS NOT NULL;
        INSERT INTO items_fts_stems (rowid, title_stems, summary_stems, content_stems)
        SELECT new.id, new.title_stems, new.summary_stems, new.content_stems
        WHERE new.title_stems IS NOT NULL;
    END;
    """,
    # 8: only what matters to each chat: per-subscription filters, saved-search alerts,
    # a daily digest instead of instant pushes, corrections of what was sent, and
    # forum topics as subscribers of their own (a chat row each, with an id of ours
    # below -2^60, where no Telegram id can be).
    """
    ALTER TABLE chats ADD COLUMN
        pushes TEXT NOT NULL DEFAULT 'instant';  -- 'instant', or 'digest': once a day
    ALTER TABLE chats ADD COLUMN
        parent_id INTEGER;                       -- a forum topic: its supergroup's chat id
    ALTER TABLE chats ADD COLUMN
        thread_id INTEGER;                       -- a forum topic: its message_thread_id
    CREATE UNIQUE INDEX chats_topics ON chats (parent_id, thread_id)
        WHERE parent_id IS NOT NULL;

    CREATE TABLE filters (
        id INTEGER PRIMARY KEY,                  -- for the matcher
        chat_id INTEGER NOT NULL,                -- the subscriber
        feed_id INTEGER NOT NULL,                -- the feed it follows
        query TEXT NOT NULL,                     -- as the user typed it (/search syntax, -word)
        created_at REAL NOT NULL,                -- when it was set
        UNIQUE (chat_id, feed_id),
        FOREIGN KEY (chat_id, feed_id) REFERENCES subscriptions (chat_id, feed_id)
            ON UPDATE CASCADE ON DELETE CASCADE   -- unsubscribing drops the filter
    );

    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,                  -- ALERT_ID, as users type it
        chat_id INTEGER NOT NULL                 -- who gets what matches
            REFERENCES chats(id) ON UPDATE CASCADE ON DELETE CASCADE,
        query TEXT NOT NULL,                     -- as the user typed it
        canonical TEXT NOT NULL,                 -- the parsed query written out: duplicates
        created_at REAL NOT NULL,                -- when it was saved
        UNIQUE (chat_id, canonical)
    );

    -- Bumped by every change to filters and alerts, so a process can tell when the
    -- matcher it holds in memory is out of date (another process may have changed them).
    CREATE TABLE matcher_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),   -- one row
        version INTEGER NOT NULL                 -- changes counted since the table was made
    );
    INSERT INTO matcher_version (id, version) VALUES (1, 0);
    CREATE TRIGGER filters_changed_insert AFTER INSERT ON filters BEGIN
        UPDATE matcher_version SET version = version + 1;
    END;
    CREATE TRIGGER filters_changed_update AFTER UPDATE ON filters BEGIN
        UPDATE matcher_version SET version = version + 1;
    END;
    CREATE TRIGGER filters_changed_delete AFTER DELETE ON filters BEGIN
        UPDATE matcher_version SET version = version + 1;
    END;
    CREATE TRIGGER alerts_changed_insert AFTER INSERT ON alerts BEGIN
        UPDATE matcher_version SET version = version + 1;
    END;
    CREATE TRIGGER alerts_changed_update AFTER UPDATE ON alerts BEGIN
        UPDATE matcher_version SET version = version + 1;
    END;
    CREATE TRIGGER alerts_changed_delete AFTER DELETE ON alerts BEGIN
        UPDATE matcher_version SET version = version + 1;
    END;

    ALTER TABLE outbox ADD COLUMN
        alert_id INTEGER;                        -- the alert that brought the statement, if any
    ALTER TABLE outbox ADD COLUMN
        edit_of INTEGER;                         -- kind 'edit': the row whose message it corrects
    -- A changed statement finds the messages sent for it.
    CREATE INDEX outbox_by_item ON outbox (item_id) WHERE item_id IS NOT NULL;
    CREATE INDEX outbox_edits ON outbox (edit_of) WHERE edit_of IS NOT NULL;

    CREATE TABLE digest_releases (
        chat_id INTEGER NOT NULL                 -- a chat in digest mode
            REFERENCES chats(id) ON UPDATE CASCADE ON DELETE CASCADE,
        local_date TEXT NOT NULL,                -- the chat's calendar day of the digest
        created_at REAL NOT NULL,                -- when its statements were released
        PRIMARY KEY (chat_id, local_date)
    ) WITHOUT ROWID;
    CREATE INDEX digest_releases_by_time ON digest_releases (created_at);
    """,
    # 9: two interface languages: each chat's own (NULL: its Telegram language or
    # DEFAULT_LANGUAGE when first seen), and counters' texts in other languages, each
    # counter knowing the language its own text is written in (for plural forms).
    """
    ALTER TABLE chats ADD COLUMN
        language TEXT;                           -- 'en' or 'ru'; NULL: DEFAULT_LANGUAGE
    ALTER TABLE counters ADD COLUMN
        language TEXT NOT NULL DEFAULT 'en';     -- the language of `template`
    CREATE TABLE counter_texts (
        counter_id INTEGER NOT NULL              -- the counter
            REFERENCES counters(id) ON DELETE CASCADE,
        language TEXT NOT NULL,                  -- 'en' or 'ru'
        template TEXT NOT NULL,                  -- the line in that language, with {days}
        PRIMARY KEY (counter_id, language)
    ) WITHOUT ROWID;
    """,
    # 10: sources without a feed. A web page is read as a list of statements (by
    # detection, or by an admin's selectors); what detection last found is kept so
    # that a page whose list disappears (a new layout) is told from a quiet one.
    """
    ALTER TABLE feeds ADD COLUMN
        kind TEXT NOT NULL DEFAULT 'feed';       -- 'feed' (RSS, Atom, JSON Feed) or 'page'
    ALTER TABLE feeds ADD COLUMN
        selectors TEXT;                          -- a page's /addpage selectors; NULL: detected
    ALTER TABLE feeds ADD COLUMN
        language TEXT;                           -- <html lang>, <language>, xml:lang; NULL: none
    ALTER TABLE feeds ADD COLUMN
        detected_signature TEXT;                 -- a page: where its list was last found
    ALTER TABLE feeds ADD COLUMN
        detected_items INTEGER;                  -- a page: statements that list held then
    """,
]

# The first version whose items carry stems (see apply_migrations).
STEMS_VERSION = 7

LATEST_VERSION = len(MIGRATIONS)
