"""Bot API methods about the bot itself: getMe, receiving updates (long polling
or a webhook) and its command menu."""

from __future__ import annotations

import json
import re
from collections import deque

from emulator.models import _DEFAULT_ALLOWED, JSON, ApiError, _bad_request
from emulator.params import _as_bool, _as_float, _as_int, _as_json, _as_str
from emulator.state import EmulatorState

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class UpdatesMixin(EmulatorState):
    # ------------------------------------------------------------------ method handlers

    async def _ok(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params, "offset")
        limit = min(max(_as_int(params, "limit") or 100, 1), 100)
        timeout = _as_float(params, "timeout", 0.0)
        allowed = _as_json(params, "allowed_updates")
        if isinstance(allowed, list):
            # Telegram remembers the last list; an empty one means the default set.
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_ALLOWED
        if offset is not None:
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
        # A newer getUpdates ends an older one with 409, as Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._changed()

        def ready() -> bool:
            return (
                bool(self._deliverable())
                or generation != self._poll_generation
                or self._closed.is_set()
            )

        if timeout > 0:
            try:
                await self.wait_for(ready, timeout)
            except TimeoutError:
                pass
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return self._deliverable()[:limit]

    def _deliverable(self) -> list[JSON]:
        # Updates of types not allowed are dropped, as Telegram drops them.
        kept = deque(u for u in self._updates if self._update_type(u) in self._allowed_updates)
        if len(kept) != len(self._updates):
            self._updates = kept
        return list(kept)

    async def _set_webhook(self, params: JSON) -> bool:
        url = _as_str(params, "url") or ""
        if url and not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        self.webhook_secret = _as_str(params, "secret_token")
        allowed = _as_json(params, "allowed_updates")
        self.webhook_allowed_updates = allowed if isinstance(allowed, list) else None
        if _as_bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        if _as_bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_allowed_updates is not None:
            info["allowed_updates"] = self.webhook_allowed_updates
        return info

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = _as_json(params, "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), _as_str(params, "language_code") or ""

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = _as_json(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand")
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])
