"""Bounce formats of particular mail systems that neither RFC 3464 nor the generic text reader
gets right. One module per family, each with NAME, `claims(mail)` (its subject, sender or
headers: cheap, checked first) and `detect(mail)`; FAMILIES is the order they are tried in.

A family reads its mail system's own vocabulary (as sisimai's per-MTA tables do): IMail's
"Unknown user:", InterScan's "Unable to deliver message to", Email Security.cloud's "542 …
Rejected", fml's list notices; a claimed family is tried before the generic RFC 3464 reader.
"""

from __future__ import annotations

from types import ModuleType

from mailer.inbound.detectors.families import (
    amazonses,
    exchange,
    fml,
    imail,
    interscan,
    messagelabs,
)

FAMILIES: tuple[ModuleType, ...] = (amazonses, messagelabs, imail, interscan, fml, exchange)
