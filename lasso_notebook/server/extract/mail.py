"""E-mails: a ``.eml`` message's body (its text/plain part, else its HTML part) with the
stdlib ``email`` parser, and the new message of an e-mail text: quoted earlier messages
(``>`` lines, ``On … wrote:``, ``-----Original Message-----``) and the signature left out;
the earlier message a reply quotes or forwards, without its markers and header lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

__all__ = ["Mail", "earlier_message", "looks_like_mail", "message_lines", "new_message", "read_eml"]

_QUOTE_HEAD = re.compile(
    r"^\s*(?:on\b.{4,200}\bwrote:|am\b.{4,200}\bschrieb.{0,40}:|le\b.{4,200}\ba écrit\s*:"
    r"|op\b.{4,200}\bschreef.{0,40}:|el\b.{4,200}\bescribió:|-{2,}\s*(?:original message"
    r"|ursprüngliche nachricht|message d'origine|oorspronkelijk bericht|mensaje original"
    r"|forwarded message|weitergeleitete nachricht)\s*-{2,}|_{10,})\s*$",
    re.I,
)
_HEADER_BLOCK = re.compile(r"^\s*(?:from|von|de|van|sent|gesendet|envoyé|verzonden|enviado):\s", re.I)  # fmt: skip
_SIGN_OFF = re.compile(
    r"^\s*(?:best|kind|warm|many thanks and)? ?regards|^\s*best wishes|^\s*cheers\b|^\s*thanks?(?: you)?[,!.]?\s*$"
    r"|^\s*sincerely|^\s*(?:mit )?(?:freundlichen|besten|vielen|herzlichen|liebe|viele|beste) grüß?s?e"
    r"|^\s*mfg\b|^\s*cordialement|^\s*bien à vous|^\s*salutations|^\s*bien cordialement"
    r"|^\s*met vriendelijke groet|^\s*(?:hartelijke )?groet(?:en)?\b|^\s*saludos|^\s*atentamente"
    r"|^\s*un saludo|^\s*merci[,!.]?\s*$|^\s*danke[,!.]?\s*$|^\s*gracias[,!.]?\s*$",
    re.I,
)
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon)|hallo|guten (?:tag|morgen)|liebe[rs]?"
    r"|sehr geehrte[rs]?|bonjour|cher|chère|madame|monsieur|beste|geachte|hoi|hola|estimad[oa]s?"
    r"|buenos días)\b[^.!?]{0,60}[,!:]?\s*$",
    re.I,
)
_MAIL_HEADERS = re.compile(r"^(?:from|to|subject|date|cc|message-id|mime-version|received):", re.I | re.M)  # fmt: skip


@dataclass
class Mail:
    subject: str
    text: str | None  # the text/plain body
    html: str | None  # the text/html body, when there is no plain text


def read_eml(data: bytes) -> Mail:
    """The subject and body of a ``.eml`` message (RFC 822 / MIME)."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    subject = str(message.get("subject") or "")
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    text = plain.get_content() if plain is not None else None  # type: ignore[attr-defined]
    markup = html.get_content() if html is not None and text is None else None  # type: ignore[attr-defined]
    if text is None and markup is None and not message.is_multipart():
        text = message.get_content()
    return Mail(subject, text, markup)


def looks_like_mail(text: str) -> bool:
    """Raw e-mail headers at the top, or a greeting and a sign-off around the text."""
    head = text[:2000]
    if len(_MAIL_HEADERS.findall(head)) >= 2 and re.match(r"^[\w-]+:", head.lstrip()):
        return True
    lines = [line for line in text.splitlines() if line.strip()]
    greeting = any(_GREETING.match(line) for line in lines[:3])
    closing = any(
        (_SIGN_OFF.match(line) and len(line.split()) <= 6) or _QUOTE_HEAD.match(line)
        for line in lines[3:]
    )
    return greeting and closing


def message_lines(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of the message itself: up to a quoted earlier message or the
    sign-off (the signature follows it), without ``>`` lines and the greeting."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ") or _QUOTE_HEAD.match(line):
            break
        if _HEADER_BLOCK.match(line) and any(_HEADER_BLOCK.match(n) for n in lines[index + 1 : index + 4]):  # fmt: skip
            break  # an Outlook-style quoted header: From: / Sent: / To:
        if _SIGN_OFF.match(line) and len(line.split()) <= 6:
            break
        if line.lstrip().startswith(">"):
            continue
        out.append((index + 1, line))
    while out and not out[0][1].strip():
        out.pop(0)
    if out and _GREETING.match(out[0][1]):
        out.pop(0)
    while out and not out[0][1].strip():
        out.pop(0)
    return out


def new_message(text: str) -> list[str]:
    """The lines of ``message_lines``."""
    return [line for _, line in message_lines(text)]


# The header lines of a forwarded or quoted message ("From: ...", "Betreff: ...").
_FORWARD_HEADER = re.compile(
    r"^\s*(?:from|to|cc|date|sent|subject|von|an|datum|gesendet|betreff|de|à|a|envoyé|objet"
    r"|van|aan|verzonden|onderwerp|para|enviado|asunto|fecha)\s*:\s",
    re.I,
)
_QUOTE_MARKS = re.compile(r"^\s*(?:>\s?)+")
_DASHED = re.compile(r"^\s*-{2,}.*-{2,}\s*$")  # "---- Forwarded message ----"
_WROTE = re.compile(r"\b(?:wrote|schrieb|a écrit|schreef|escribió)\s*:\s*$", re.I)


def earlier_message(text: str, last: int) -> str:
    """The text after the new message (which ends at line ``last``): a forwarded or quoted
    earlier message, its ``>`` markers, its marker line ("---- Forwarded message ----",
    "On ... wrote:") and its header lines left out; "" when there is none."""
    lines = text.replace("\r\n", "\n").split("\n")[last:]
    out: list[str] = []
    for line in lines:
        line = _QUOTE_MARKS.sub("", line)
        if _FORWARD_HEADER.match(line) or _DASHED.match(line) or _WROTE.search(line):
            continue
        out.append(line)
    rest = "\n".join(out).strip()
    return rest if rest != text.strip() else ""
