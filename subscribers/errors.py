"""The subscribers package's error hierarchy; messages say what is wrong and where."""


class SubscribersError(Exception):
    """Base of every error the subscribers package raises on purpose."""


class NotFound(SubscribersError):
    """A list, subscriber or segment that was named does not exist."""


class InvalidAddress(SubscribersError):
    """An email address that cannot be accepted."""


class Suppressed(SubscribersError):
    """The address is on the suppression list and must not be (re)subscribed."""
