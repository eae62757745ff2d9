"""Rendering's errors."""

from mailer.errors import MailerError


class RenderError(MailerError):
    """A template failed to compile or its output lost content."""
