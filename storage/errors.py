"""Domain errors: what the store raises instead of raw SQLite errors."""

from __future__ import annotations


class StorageError(Exception):
    """Base class; the message is fit to show to a user or an operator."""


class DatabaseTooNewError(StorageError):
    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"the database is at schema version {found}, but this Communique only knows "
            f"versions up to {supported}; upgrade Communique or restore a backup"
        )
        self.found = found
        self.supported = supported


class DatabaseCorruptError(StorageError):
    pass


class DatabaseLockedError(StorageError):
    """Another process holds a lock on the database past the busy timeout."""


class FeedExistsError(StorageError):
    def __init__(self, url: str, feed_id: int) -> None:
        super().__init__(f"the feed {url} is already there (feed {feed_id})")
        self.url = url
        self.feed_id = feed_id


class FeedNotFoundError(StorageError):
    def __init__(self, feed_id: int) -> None:
        super().__init__(f"there is no feed {feed_id}")
        self.feed_id = feed_id


class ChatNotFoundError(StorageError):
    def __init__(self, chat_id: int) -> None:
        super().__init__(f"unknown chat {chat_id}")
        self.chat_id = chat_id


class CounterNotFoundError(StorageError):
    def __init__(self, counter_id: int) -> None:
        super().__init__(f"there is no counter {counter_id}")
        self.counter_id = counter_id


class InvalidSearchQueryError(StorageError):
    pass


class NotSubscribedError(StorageError):
    """A filter for a feed the chat does not follow."""

    def __init__(self, chat_id: int, feed_id: int) -> None:
        super().__init__(f"this chat does not follow feed {feed_id}")
        self.chat_id = chat_id
        self.feed_id = feed_id


class AlertNotFoundError(StorageError):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"this chat has no alert {alert_id}")
        self.alert_id = alert_id


class AlertExistsError(StorageError):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"this chat already has that alert (alert {alert_id})")
        self.alert_id = alert_id


class AlertLimitError(StorageError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"a chat can have at most {limit} alerts")
        self.limit = limit
