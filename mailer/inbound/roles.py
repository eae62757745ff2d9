"""The role addresses of the mail domain: `postmaster@` (RFC 5321 4.5.1: a domain that accepts
mail must accept it, the local part in any case) and `abuse@` (RFC 2142), where other operators
send their abuse and feedback-loop (ARF, RFC 5965) reports.

They name no delivery, so a message to one is stored with no delivery and the address kind
`postmaster` or `abuse`, and judged like any other. What it can do is narrow: a complaint or a
delivery report that carries the signed Message-ID of one of our deliveries is applied to that
delivery, as if it had reached that delivery's address; anything else (a delivery token alone
included: anyone who saw the reader's mail has it) is kept for an admin (the admin's Bounces
page lists it), never forwarded to a partner, never answered.
"""

from __future__ import annotations

ROLE_ADDRESSES = ("postmaster", "abuse")


def role_of(address: str, domain: str) -> str | None:
    """`postmaster` or `abuse` when `address` is that role at `domain` (any case, `<…>` allowed);
    None for any other address, at any other domain."""
    a = address.strip()
    if a.startswith("<") and a.endswith(">"):
        a = a[1:-1]
    local, at, dom = a.rpartition("@")
    if not at or dom.lower().rstrip(".") != domain.lower().rstrip("."):
        return None
    local = local.lower()
    return local if local in ROLE_ADDRESSES else None


def is_role(address_kind: str) -> bool:
    """Whether a stored message's address kind is a role address (no delivery of its own)."""
    return address_kind in ROLE_ADDRESSES
