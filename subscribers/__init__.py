"""The audience: subscribers, lists, subscriptions, segments and suppression.

This package never imports `mailer`; the mailer uses it through its public functions.
"""
