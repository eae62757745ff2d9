"""Bounce formats of particular mail systems that neither RFC 3464 nor the generic text reader
gets right. One module per family, each with NAME, `claims(mail)` (its subject, sender or
headers: cheap, checked first) and `detect(mail)`; FAMILIES is the order they are tried in.
"""

from __future__ import annotations

from types import ModuleType

from mailer.inbound.detectors.families import amazonses

FAMILIES: tuple[ModuleType, ...] = (amazonses,)
