"""A Telegram Bot API emulator on 127.0.0.1, for end-to-end tests with the real client.

python-telegram-bot talks to it over HTTP exactly as to api.telegram.org (through
`telegram.api_base_url`). It keeps the updates people "send" until getUpdates confirms
them, answers long polls, records every message the bot sends, checks what Telegram
checks (HTML that parses, 4096 characters, 64-byte button data), and can inject faults:
429 with retry_after, 500, 403, slow answers. It can also post updates to a webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import html.parser
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Coach", "username": "smart_coach_bot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
             "tg-spoiler", "span", "blockquote", "tg-emoji"}
JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "entities", "link_preview_options",
               "reply_parameters"}


@dataclass
class Fault:
    status: int
    retry_after: int | None = None
    delay: float = 0.0
    description: str = ""


@dataclass
class Sent:
    """One thing the bot sent to a chat."""

    method: str
    chat_id: int
    message_id: int
    text: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b.get("callback_data", "")) for row in
                markup.get("inline_keyboard", []) for b in row]

    @property
    def plain(self) -> str:
        """The text as a person sees it (tags removed, entities decoded)."""
        parser = _TextOnly()
        parser.feed(self.text)
        return "".join(parser.parts)


class _TextOnly(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


class _HtmlCheck(html.parser.HTMLParser):
    """Rejects what Telegram's HTML parse mode rejects: unknown tags, unbalanced tags,
    and a bare < or & that is not an entity."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            self.error = f"unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = f"unexpected end tag \"{tag}\""


def html_error(text: str) -> str | None:
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    if check.error:
        return check.error
    if check.stack:
        return f"can't find end tag corresponding to start tag \"{check.stack[-1]}\""
    bare = text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").replace(
        "&quot;", "")
    if "&" in bare and not any(e in bare for e in ("&#",)):
        return "unsupported entity (a bare &)"
    return None


def base_url(port: int, path: str = "bot") -> str:
    """Where a bot finds the emulator listening on `port` (PTB's base_url, base_file_url)."""
    return f"http://127.0.0.1:{port}/{path}"


class BotApiEmulator:
    def __init__(self, token: str = "123456:TEST-token-for-tests", *, latency: float = 0.0,
                 per_second: float | None = None):
        self.token = token
        self.latency = latency
        # Telegram's flood limit, enforced: more sends than this in any second get a 429.
        self.per_second = per_second
        self.rate_limited = 0  # 429s given for going over it
        self._recent: deque[float] = deque()
        self.updates: list[dict[str, Any]] = []  # delivered to the bot but not yet confirmed
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.commands: list[dict[str, str]] = []  # the menu for any language
        self.commands_for: dict[str, list[dict[str, str]]] = {}  # by language_code
        self.language_of: dict[int, str] = {}  # a person's app language; "en" if not set
        self.answered_callbacks: list[str] = []
        self.blocked: set[int] = set()
        self.webhook: dict[str, Any] | None = None
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.down_until = 0.0  # until then (time.monotonic()) every send fails with 502
        self.confirmed_up_to = 0
        self.polls = 0  # getUpdates calls: a bot is up and polling
        self.pushed_at: dict[int, float] = {}  # update id -> when it was sent (benchmarks)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # -- server ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._endpoint)
        app.router.add_get("/bot{token}/{method}", self._endpoint)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._closing = True  # let pending long polls answer now
        await self._notify()
        if self._runner:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return base_url(self.port)

    @property
    def base_file_url(self) -> str:
        return base_url(self.port, "file/bot")

    # -- what people do --------------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"Person{user_id}",
                "language_code": self.language_of.get(user_id, "en")}

    def private_chat(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "type": "private", "first_name": f"Person{user_id}"}

    def _message(self, user_id: int, chat: dict[str, Any] | None = None,
                 **content: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": chat or self.private_chat(user_id), "from": self.user(user_id),
                **content}

    def push(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: payload})
        self.pushed_at[update_id] = time.monotonic()
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    def user_sends(self, user_id: int, text: str) -> int:
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0,
                         "length": len(text.split()[0])}]
        return self.push("message", self._message(user_id, text=text, entities=entities))

    def user_presses(self, user_id: int, label: str) -> int:
        """Press a button by its label, on the newest message to this person that has it."""
        for sent in reversed(self.messages_to(user_id)):
            for text, data in sent.buttons:
                if text == label:
                    return self.user_presses_data(user_id, data, sent)
        raise AssertionError(f"no button {label!r} in the messages to {user_id}")

    def user_presses_data(self, user_id: int, data: str, sent: Sent | None = None) -> int:
        message = {"message_id": sent.message_id if sent else 1, "date": int(time.time()),
                   "chat": self.private_chat(user_id), "from": BOT_USER,
                   "text": sent.plain if sent else "old message"}
        query = {"id": str(next(self._query_ids)), "from": self.user(user_id),
                 "chat_instance": str(user_id), "data": data, "message": message}
        return self.push("callback_query", query)

    def user_shares_location(self, user_id: int, latitude: float, longitude: float) -> int:
        return self.push("message", self._message(
            user_id, location={"latitude": latitude, "longitude": longitude}))

    def user_sends_sticker(self, user_id: int) -> int:
        sticker = {"file_id": "CAAC", "file_unique_id": "u1", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
        return self.push("message", self._message(user_id, sticker=sticker))

    def user_edits(self, user_id: int, text: str) -> int:
        edited = self._message(user_id, text=text)
        edited["edit_date"] = int(time.time())
        return self.push("edited_message", edited)

    def group_message(self, chat_id: int, user_id: int, text: str) -> int:
        chat = {"id": chat_id, "type": "supergroup", "title": "Recovery group"}
        return self.push("message", self._message(user_id, chat=chat, text=text))

    def user_blocks(self, user_id: int) -> int:
        self.blocked.add(user_id)
        change = {"chat": self.private_chat(user_id), "from": self.user(user_id),
                  "date": int(time.time()),
                  "old_chat_member": {"status": "member", "user": BOT_USER},
                  "new_chat_member": {"status": "kicked", "user": BOT_USER,
                                      "until_date": 0}}
        return self.push("my_chat_member", change)

    # -- what the bot did ------------------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [s.plain for s in self.messages_to(chat_id)]

    async def wait_for(self, chat_id: int, count: int, timeout: float = 10.0) -> list[Sent]:
        """Wait until `count` messages in all have reached the chat."""
        deadline = time.monotonic() + timeout
        while len(self.messages_to(chat_id)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"chat {chat_id} got {self.texts_to(chat_id)}, "
                                     f"not {count} messages, in {timeout}s")
            await asyncio.sleep(0.01)
        return self.messages_to(chat_id)

    async def wait_confirmed(self, update_id: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.confirmed_up_to < update_id:
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update_id} was never confirmed")
            await asyncio.sleep(0.01)

    def outage(self, seconds: float) -> None:
        """Telegram out of reach for sending, from now for `seconds` (502 Bad Gateway)."""
        self.down_until = time.monotonic() + seconds

    def fail(self, method: str, status: int, *, times: int = 1, retry_after: int | None = None,
             delay: float = 0.0) -> None:
        """The next `times` calls of `method` fail with `status` (after `delay` seconds)."""
        for _ in range(times):
            self.faults[method].append(Fault(status, retry_after, delay))

    async def post_to_webhook(self, update: dict[str, Any], secret: str | None) -> int:
        """Post an update to the registered webhook as Telegram would; returns the status."""
        assert self.webhook is not None, "the bot registered no webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        async with aiohttp.ClientSession() as session, session.post(
                self.webhook["url"], json=update, headers=headers) as response:
            return response.status

    def make_update(self, user_id: int, text: str) -> dict[str, Any]:
        return {"update_id": next(self._update_ids),
                "message": self._message(user_id, text=text)}

    # -- the API ---------------------------------------------------------------------------

    async def _endpoint(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        if self.latency:
            await asyncio.sleep(self.latency)
        if method.startswith("send") and time.monotonic() < self.down_until:
            return _fault(Fault(502))
        if self.faults[method]:
            fault = self.faults[method].popleft()
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return _fault(fault)
        handler = getattr(self, f"api_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except _RateLimited:
            return _fault(Fault(429, retry_after=1))
        except _ApiError as exc:
            return _error(exc.status, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
            return data
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = json.loads(value) if key in JSON_FIELDS else value
            else:
                params[key] = value.file.read()  # an upload
        return params

    async def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    async def api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def api_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    async def api_setmycommands(self, params: dict[str, Any]) -> bool:
        code = params.get("language_code")
        if code:
            self.commands_for[code] = list(params["commands"])
        else:
            self.commands = list(params["commands"])
        return True

    async def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polls += 1
        offset = int(params.get("offset", 0) or 0)
        if offset:
            self.confirmed_up_to = max(self.confirmed_up_to, offset - 1)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        limit = int(params.get("limit", 100) or 100)
        timeout = float(params.get("timeout", 0) or 0)
        if not self.updates and timeout:
            async with self._arrived:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait_for(
                        lambda: bool(self.updates) or self._closing), timeout)
        return self.updates[:limit]

    async def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        self.answered_callbacks.append(params["callback_query_id"])
        return True

    async def _record(self, method: str, params: dict[str, Any], text: str) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if self.per_second:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.per_second:
                self.rate_limited += 1
                raise _RateLimited()
            self._recent.append(now)
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if params.get("parse_mode") == "HTML" and text:
            problem = html_error(text)
            if problem:
                raise _ApiError(400, f"Bad Request: can't parse entities: {problem}")
        sent = Sent(method, chat_id, next(self._message_ids), text, params)
        self.sent.append(sent)
        message = {"message_id": sent.message_id, "date": int(time.time()),
                   "chat": self.private_chat(chat_id), "from": BOT_USER}
        if text:
            message["text"] = sent.plain
        return message

    async def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(Sent("", 0, 0, text, {}).plain) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return await self._record("sendMessage", params, text)

    async def api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        message = await self._record("sendPhoto", params, str(params.get("caption", "")))
        message["photo"] = [{"file_id": "p1", "file_unique_id": "p1", "width": 1, "height": 1}]
        return message

    async def api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        message = await self._record("sendDocument", params, str(params.get("caption", "")))
        message["document"] = {"file_id": "d1", "file_unique_id": "d1"}
        return message

    async def api_sendlocation(self, params: dict[str, Any]) -> dict[str, Any]:
        message = await self._record("sendLocation", params, "")
        message["location"] = {"latitude": float(params["latitude"]),
                               "longitude": float(params["longitude"])}
        return message

    async def api_sendvenue(self, params: dict[str, Any]) -> dict[str, Any]:
        message = await self._record("sendVenue", params, "")
        location = {"latitude": float(params["latitude"]),
                    "longitude": float(params["longitude"])}
        message["venue"] = {"location": location, "title": params["title"],
                            "address": params["address"]}
        message["location"] = location
        return message

    async def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._record("editMessageText", params, str(params.get("text", "")))

    async def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._record("editMessageReplyMarkup", params, "")

    async def api_sendchataction(self, params: dict[str, Any]) -> bool:
        return True


class _RateLimited(Exception):
    pass


class _ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _fault(fault: Fault) -> web.Response:
    if fault.status == 429:
        return _error(429, f"Too Many Requests: retry after {fault.retry_after or 1}",
                      retry_after=fault.retry_after or 1)
    descriptions = {403: "Forbidden: bot was blocked by the user",
                    400: "Bad Request: injected", 500: "Internal Server Error",
                    502: "Bad Gateway"}
    return _error(fault.status, fault.description or descriptions.get(fault.status, "Error"))
