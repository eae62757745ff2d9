"""Feedback report types (ARF, RFC 5965 §7.3's registry and what feedback loops send): which ones
are spam complaints and which ones are a reader leaving a list.

Their own module, with no import: the detector that reads reports and `mailer report`, which
counts complaints without loading any detector, both need them.
"""

from __future__ import annotations

COMPLAINT_TYPES = frozenset({"abuse", "fraud", "virus", "other", "complaint"})
# The reader asked to leave the list (ARF drafts' and some feedback loops' type; Apple Mail's
# "Unsubscribe" button): not a spam complaint, an unsubscribe.
OPT_OUT_TYPES = frozenset({"opt-out", "optout", "unsubscribe"})
