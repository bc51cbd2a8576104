"""Channels behind one small interface: SMS.ru, SMS Aero, SMSC, a Telegram bot, a MAX bot, SMTP
(and the demo console of the embedded default).

A channel sends one text to one recipient and says what happened:
* `SendResult` — accepted (provider message id, cost in kopecks when the provider tells);
* `TransientError` — try again later (timeouts, connection errors, 5xx, 429, "service busy");
* `PermanentError` — the provider refused for good (bad number, no funds, bot blocked): the
  message fails with the reason shown.
Every error carries a Russian `reason` (shown to the owner in the message log, without the
provider's secrets) and a machine `code` (bad_number, no_funds, auth, sender, rejected,
blocked, chat_not_found, unavailable, rate_limited, timeout, connection, bad_answer...).
None of the providers takes an idempotency key, so after a timeout the delivery code asks
`lookup()` before sending again where the provider can answer (SMS Aero's list, by number
and text); elsewhere a timeout may, rarely, mean a second copy (at-least-once).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import urlsplit

import requests

from hub.money import BadNumber, wire_decimal

TIMEOUT = (5, 15)      # connect, read (seconds)
_local = threading.local()


def http() -> requests.Session:
    """One pooled HTTP session per thread (the worker sends many messages in a row)."""
    s = getattr(_local, "session", None)
    if s is None:
        s = _local.session = requests.Session()
        s.headers["User-Agent"] = "Kopilka/1.0"
    return s


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    cost: int | None = None          # kopecks, when the provider says
    status: str = "sent"             # sent | delivered
    # kopecks left on the provider account, when the send answer says (SMS.ru, SMSC): the owner
    # sees it without the hub ever calling a balance method
    balance: int | None = None


class ChannelError(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, code: str = "provider_error"):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.code = code


class TransientError(ChannelError):
    """Try again later."""


class PermanentError(ChannelError):
    """Refused for good; the message fails with the reason."""


class TimeoutUnknown(TransientError):
    """The request may or may not have reached the provider (read timeout)."""


def _kopecks(value) -> int | None:
    """A provider's cost in roubles ("5.49", 5.49) as kopecks; None when absent or not a sane
    non-negative number (NaN, Infinity, 1e30, a list...)."""
    if value is None or value == "":
        return None
    try:
        number = wire_decimal(value)
    except BadNumber:
        return None
    return int((number * 100).quantize(Decimal(1))) if number >= 0 else None


def _request(method: str, url: str, **kw) -> requests.Response:
    try:
        return http().request(method, url, timeout=kw.pop("timeout", TIMEOUT), **kw)
    except requests.ReadTimeout as exc:
        # the host only: Telegram's path carries the bot token, others put keys in the query
        raise TimeoutUnknown(f"Провайдер не ответил вовремя ({urlsplit(url).hostname or 'провайдер'})",
                             code="timeout") from exc
    except requests.RequestException as exc:
        raise TransientError(f"Провайдер недоступен (ошибка соединения: {type(exc).__name__})",
                             code="connection") from exc


def rate_limited(retry_after: float | None = None) -> TransientError:
    return TransientError("Провайдер просит отправлять реже (HTTP 429)", retry_after, code="rate_limited")


def _http_status(resp: requests.Response, name: str) -> None:
    if resp.status_code == 429:
        retry = resp.headers.get("Retry-After")
        raise rate_limited(float(retry) if retry and retry.isdigit() else None)
    if resp.status_code >= 500:
        raise TransientError(f"Провайдер недоступен (HTTP {resp.status_code})", code="unavailable")


def _json(resp: requests.Response, name: str) -> dict:
    try:
        data = resp.json()
    except ValueError as exc:
        if resp.status_code >= 400:
            raise PermanentError(f"Провайдер отклонил запрос (HTTP {resp.status_code})",
                                 code="rejected") from exc
        raise TransientError("Непонятный ответ провайдера", code="bad_answer") from exc
    return data if isinstance(data, dict) else {}


class Channel:
    channel = ""
    provider = ""
    #: the channel's own limits: messages per second per bot/account, seconds between
    #: messages to one chat (None = no limit known)
    per_second: float | None = None
    per_chat_interval: float | None = None

    def __init__(self, settings: dict | None = None, credentials: dict | None = None):
        self.settings = settings or {}
        self.credentials = credentials or {}

    def send(self, recipient: str, text: str, *, subject: str | None = None,
             callback_url: str | None = None) -> SendResult:
        raise NotImplementedError

    def lookup(self, recipient: str, text: str) -> SendResult | None:
        """After a timeout: did the provider take the message after all? None = unknown."""
        return None

    def status(self, provider_message_id: str) -> str | None:
        """delivered | failed | sent (still on its way) | None (cannot ask)."""
        return None


def digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


# --- SMS.ru ---------------------------------------------------------------------------------

# https://sms.ru/api/send: status codes that mean "later", the rest of the errors are final
SMSRU_TRANSIENT = {220, 230, 231, 232, 233, 500, 501}
SMSRU_REASONS = {   # code -> (machine code, Russian reason)
    200: ("auth", "Провайдер не принял учётные данные (неверный api_id)"),
    201: ("no_funds", "Недостаточно средств у провайдера"),
    202: ("bad_number", "Неверный номер"), 203: ("rejected", "Нет текста сообщения"),
    204: ("sender", "Имя отправителя не согласовано с провайдером"),
    205: ("rejected", "Сообщение слишком длинное"), 206: ("limit", "Превышен дневной лимит провайдера"),
    207: ("bad_number", "На этот номер нельзя отправлять сообщения"),
    208: ("rejected", "Неверное время отправки"), 209: ("stop_list", "Номер в стоп-листе провайдера"),
    220: ("unavailable", "Провайдер временно недоступен"),
    230: ("limit", "Превышен лимит сообщений на этот номер в день"),
    231: ("limit", "Превышен лимит одинаковых сообщений в минуту"),
    232: ("limit", "Превышен лимит одинаковых сообщений в день"),
    300: ("auth", "Провайдер не принял учётные данные (токен устарел)"),
    301: ("auth", "Провайдер не принял учётные данные (неверный api_id)"),
    302: ("auth", "Аккаунт у провайдера не подтверждён"),
}
# delivery-status codes (callback and /sms/status)
SMSRU_DELIVERED = {103}
SMSRU_FAILED = {104, 105, 106, 107, 108, 150}


def _smsru_error(code, text: str | None) -> ChannelError:
    try:
        code = int(code)
    except (TypeError, ValueError):
        code = 0
    kind, reason = SMSRU_REASONS.get(code) or ("rejected", f"Провайдер отклонил сообщение: {text or 'без причины'}")
    return (TransientError if code in SMSRU_TRANSIENT else PermanentError)(
        f"{reason} (SMS.ru, код {code})", code=kind)


class SmsRu(Channel):
    channel, provider = "sms", "smsru"
    base = "https://sms.ru"

    def _base(self) -> str:
        return (self.settings.get("api_base") or self.base).rstrip("/")

    def send(self, recipient, text, *, subject=None, callback_url=None):
        to = digits(recipient)
        data = {"api_id": self.credentials.get("api_id", ""), "to": to, "msg": text, "json": 1}
        if self.settings.get("sender"):
            data["from"] = self.settings["sender"]
        resp = _request("POST", f"{self._base()}/sms/send", data=data)
        _http_status(resp, "SMS.ru")
        body = _json(resp, "SMS.ru")
        if body.get("status") != "OK":
            raise _smsru_error(body.get("status_code"), body.get("status_text"))
        item = (body.get("sms") or {}).get(to) or next(iter((body.get("sms") or {}).values()), {})
        if item.get("status") != "OK":
            raise _smsru_error(item.get("status_code"), item.get("status_text"))
        return SendResult(str(item.get("sms_id")), _kopecks(item.get("cost")), balance=_kopecks(body.get("balance")))

    def status(self, provider_message_id):
        resp = _request("GET", f"{self._base()}/sms/status", params={
            "api_id": self.credentials.get("api_id", ""), "sms_id": provider_message_id, "json": 1})
        _http_status(resp, "SMS.ru")
        item = (_json(resp, "SMS.ru").get("sms") or {}).get(provider_message_id) or {}
        code = item.get("status_code")
        return smsru_state(code)


def smsru_state(code) -> str | None:
    try:
        code = int(code)
    except (TypeError, ValueError):
        return None
    if code in SMSRU_DELIVERED:
        return "delivered"
    if code in SMSRU_FAILED:
        return "failed"
    return "sent"


# --- SMS Aero v2 ----------------------------------------------------------------------------

SMSAERO_STATES = {0: "sent", 1: "delivered", 2: "failed", 3: "sent", 4: "sent", 6: "failed",
                  8: "sent"}   # 0 queued, 1 delivered, 2 not delivered, 6 rejected, 8 moderation


class SmsAero(Channel):
    channel, provider = "sms", "smsaero"
    base = "https://gate.smsaero.ru/v2"

    def _call(self, path: str, payload: dict) -> dict:
        base = (self.settings.get("api_base") or self.base).rstrip("/")
        resp = _request("POST", f"{base}/{path}", json=payload,
                        auth=(self.credentials.get("email", ""), self.credentials.get("api_key", "")))
        _http_status(resp, "SMS Aero")
        body = _json(resp, "SMS Aero")
        if body.get("result") == "no credits":
            raise PermanentError("Недостаточно средств у провайдера (SMS Aero)", code="no_funds")
        if body.get("result") == "reject":
            raise PermanentError(f"Провайдер отклонил сообщение: {body.get('reason') or 'без причины'} (SMS Aero)",
                                 code="rejected")
        if resp.status_code == 401:
            raise PermanentError("Провайдер не принял учётные данные: неверный email или API-ключ (SMS Aero)",
                                 code="auth")
        if not body.get("success"):
            raise PermanentError(f"Провайдер отклонил запрос: {body.get('message') or f'HTTP {resp.status_code}'} "
                                 f"(SMS Aero)", code="rejected")
        return body.get("data") or {}

    def send(self, recipient, text, *, subject=None, callback_url=None):
        payload = {"number": digits(recipient), "text": text,
                   "sign": self.settings.get("sender") or "SMS Aero"}
        if callback_url:
            payload["callbackUrl"] = callback_url
        data = self._call("sms/send", payload)
        return SendResult(str(data.get("id")), _kopecks(data.get("cost")))

    def lookup(self, recipient, text):
        data = self._call("sms/list", {"number": digits(recipient), "text": text})
        items = [v for k, v in data.items() if k.isdigit() and isinstance(v, dict)] \
            if isinstance(data, dict) else []
        for item in items:
            if item.get("text") == text:
                return SendResult(str(item.get("id")), _kopecks(item.get("cost")))
        return None

    def status(self, provider_message_id):
        data = self._call("sms/status", {"id": int(provider_message_id)})
        return SMSAERO_STATES.get(int(data.get("status", -1)))


# --- SMSC (smsc.ru) ------------------------------------------------------------------------

# https://smsc.ru/api/http/send/ — answers with fmt=3: {"id", "cnt", "cost", "balance"} (cost=3)
# or {"error", "error_code"[, "id"]}. Codes 4 (IP blocked for a while) and 9 (the same
# request again within a minute) pass; the rest are final.
SMSC_ERRORS = {
    1: ("rejected", "Ошибка в параметрах запроса"),
    2: ("auth", "Провайдер не принял учётные данные (неверный логин или пароль)"),
    3: ("no_funds", "Недостаточно средств у провайдера"),
    4: ("rate_limited", "Провайдер временно заблокировал IP-адрес из-за частых ошибок"),
    5: ("rejected", "Неверный формат даты"),
    6: ("rejected", "Сообщение запрещено (по тексту или имени отправителя)"),
    7: ("bad_number", "Неверный номер"),
    8: ("undeliverable", "Сообщение на этот номер не может быть доставлено"),
    9: ("rate_limited", "Слишком много одинаковых запросов за минуту"),
}
SMSC_TRANSIENT = {4, 9}
# https://smsc.ru/api/http/status_messages/ — message statuses (status.php and the callback)
SMSC_DELIVERED = {1, 2, 4}            # delivered, read, link opened
SMSC_FAILED = {3, 20, 22, 23, 24, 25}  # expired, undeliverable, bad number, forbidden, no funds, unavailable


def smsc_state(code) -> str | None:
    try:
        code = int(str(code).strip())
    except (TypeError, ValueError):
        return None
    if code == -3:                    # the message is unknown to SMSC
        return None
    if code in SMSC_DELIVERED:
        return "delivered"
    if code in SMSC_FAILED:
        return "failed"
    return "sent"


class Smsc(Channel):
    channel, provider = "sms", "smsc"
    base = "https://smsc.ru/sys"

    def _call(self, method: str, http_method: str, params: dict) -> dict:
        base = (self.settings.get("api_base") or self.base).rstrip("/")
        auth = {"login": self.credentials.get("login", ""), "psw": self.credentials.get("password", ""),
                "fmt": 3, "charset": "utf-8"}
        if http_method == "POST":
            resp = _request("POST", f"{base}/{method}.php", data={**auth, **params})
        else:
            resp = _request("GET", f"{base}/{method}.php", params={**auth, **params})
        _http_status(resp, "SMSC")
        body = _json(resp, "SMSC")
        if resp.status_code >= 400 and "error_code" not in body:
            raise PermanentError(f"Провайдер отклонил запрос (HTTP {resp.status_code})", code="rejected")
        if "error_code" in body or "error" in body:
            try:
                code = int(body.get("error_code"))
            except (TypeError, ValueError):
                code = 0
            kind, reason = SMSC_ERRORS.get(code) or (
                "rejected", f"Провайдер отклонил сообщение: {_scalar_text(body.get('error')) or 'без причины'}")
            raise (TransientError if code in SMSC_TRANSIENT else PermanentError)(
                f"{reason} (SMSC, код {code})", 60.0 if code in SMSC_TRANSIENT else None, code=kind)
        return body

    def send(self, recipient, text, *, subject=None, callback_url=None):
        params = {"phones": digits(recipient), "mes": text, "cost": 3}
        if self.settings.get("sender"):
            params["sender"] = self.settings["sender"]
        body = self._call("send", "POST", params)
        if body.get("id") in (None, ""):
            raise TransientError("Непонятный ответ провайдера", code="bad_answer")
        return SendResult(str(body.get("id")), _kopecks(body.get("cost")), balance=_kopecks(body.get("balance")))

    def status(self, provider_message_id, phone: str | None = None):
        if not phone:
            return None               # SMSC asks for the phone with the id
        body = self._call("status", "GET", {"id": provider_message_id, "phone": digits(phone)})
        return smsc_state(body.get("status"))


def _scalar_text(value) -> str:
    return value[:200] if isinstance(value, str) else ""


def messenger_error(name: str, code, description: str) -> PermanentError:
    """A bot platform's refusal: blocked by the user, an unknown chat, or anything else."""
    lowered = description.lower()
    if code == 403 or "blocked" in lowered or "deactivated" in lowered:
        kind, reason = "blocked", "Клиент заблокировал бота"
    elif "chat not found" in lowered or "user not found" in lowered or "chat.not.found" in lowered:
        kind, reason = "chat_not_found", "Чат с клиентом не найден"
    else:
        kind, reason = "rejected", f"Провайдер отклонил сообщение: {description[:200] or 'без причины'}"
    return PermanentError(f"{reason} ({name} {code})", code=kind)


# --- Telegram ------------------------------------------------------------------------------

class Telegram(Channel):
    channel, provider = "telegram", "telegram"
    base = "https://api.telegram.org"
    per_second, per_chat_interval = 30.0, 1.0

    def call(self, method: str, payload: dict) -> dict:
        base = (self.settings.get("api_base") or self.base).rstrip("/")
        resp = _request("POST", f"{base}/bot{self.credentials.get('token', '')}/{method}", json=payload)
        body = _json(resp, "Telegram") if resp.status_code < 500 else {}
        if resp.status_code == 429 or body.get("error_code") == 429:
            retry = (body.get("parameters") or {}).get("retry_after")
            raise rate_limited(float(retry) if retry else None)
        _http_status(resp, "Telegram")
        if not body.get("ok"):
            raise messenger_error("Telegram", body.get("error_code") or resp.status_code,
                                  str(body.get("description") or ""))
        return body.get("result") or {}

    def send(self, recipient, text, *, subject=None, callback_url=None):
        result = self.call("sendMessage", {"chat_id": recipient, "text": text})
        return SendResult(str(result.get("message_id")), 0)


# --- MAX -----------------------------------------------------------------------------------

class Max(Channel):
    """MAX Bot API: POST /messages?user_id=… with the bot token in `Authorization`."""
    channel, provider = "max", "max"
    base = "https://platform-api.max.ru"
    per_second, per_chat_interval = 30.0, 0.5

    def call(self, method: str, path: str, payload: dict | None = None, params: dict | None = None) -> dict:
        base = (self.settings.get("api_base") or self.base).rstrip("/")
        resp = _request(method, f"{base}/{path.lstrip('/')}", json=payload, params=params,
                        headers={"Authorization": self.credentials.get("token", "")})
        _http_status(resp, "MAX")
        body = _json(resp, "MAX")
        if resp.status_code >= 400:
            raise messenger_error("MAX", resp.status_code, str(body.get("message") or body.get("code") or ""))
        return body

    def send(self, recipient, text, *, subject=None, callback_url=None):
        body = self.call("POST", "messages", {"text": text}, params={"user_id": recipient})
        mid = ((body.get("message") or {}).get("body") or {}).get("mid")
        return SendResult(str(mid) if mid else None, 0)


# --- Email over SMTP -----------------------------------------------------------------------

class Smtp(Channel):
    channel, provider = "email", "smtp"

    def send(self, recipient, text, *, subject=None, callback_url=None):
        s = self.settings
        msg = EmailMessage()
        sender = s.get("from") or self.credentials.get("username") or "kopilka@localhost"
        msg["From"] = formataddr((s.get("from_name") or "", sender))
        msg["To"] = recipient
        msg["Subject"] = subject or s.get("subject") or "Сообщение"
        msg_id = make_msgid(domain=(sender.split("@", 1)[-1] or "kopilka.local"))
        msg["Message-ID"] = msg_id
        msg.set_content(text)
        host, port = s.get("host", "127.0.0.1"), int(s.get("port", 25))
        try:
            if s.get("ssl"):
                smtp = smtplib.SMTP_SSL(host, port, timeout=15, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=15)
            with smtp:
                if s.get("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                if self.credentials.get("username"):
                    smtp.login(self.credentials["username"], self.credentials.get("password", ""))
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            cls = PermanentError if codes and all(c >= 500 for c in codes) else TransientError
            raise cls(f"Почтовый сервер отклонил адрес (SMTP {', '.join(map(str, codes))})",
                      code="bad_address") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentError(f"Почтовый сервер не принял логин или пароль (SMTP {exc.smtp_code})",
                                 code="auth") from exc
        except smtplib.SMTPResponseException as exc:
            cls = PermanentError if exc.smtp_code >= 500 else TransientError
            detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
                else str(exc.smtp_error)
            raise cls(f"Почтовый сервер ответил ошибкой (SMTP {exc.smtp_code}: {detail})"[:300],
                      code="rejected" if exc.smtp_code >= 500 else "unavailable") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"Почтовый сервер недоступен ({type(exc).__name__})", code="connection") from exc
        return SendResult(msg_id.strip("<>"), 0)


# --- the demo console ----------------------------------------------------------------------

class Console(Channel):
    """The embedded default's demo SMS channel: prints the message (a one-time code
    included) to the server's console instead of sending it, so a newcomer can sign in to
    the cabinets without an SMS provider. Never for a real shop: anyone who reads the
    server's output reads the codes."""
    channel, provider = "sms", "console"

    def send(self, recipient, text, *, subject=None, callback_url=None):
        # WARNING: shown by Python's last-resort handler when nothing configured logging
        # (kopilka serve under gunicorn), so it lands on the console the owner looks at.
        logging.getLogger("kopilka.sms").warning("Демо-канал (консоль), SMS на %s: %s", recipient, text)
        return SendResult(f"console-{uuid.uuid4().hex[:12]}", 0)


PROVIDERS: dict[str, type[Channel]] = {c.provider: c for c in (SmsRu, SmsAero, Smsc, Telegram, Max, Smtp,
                                                                Console)}
CHANNEL_OF = {p: c.channel for p, c in PROVIDERS.items()}
CHANNELS = ("telegram", "max", "email", "sms")
# Cheapest first: messengers and email cost nothing per message, SMS costs per part.
ORDER = ("telegram", "max", "email", "sms")


def new_secret() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex
