"""Briefing mailer: a self-hosted newsletter distribution service."""

__version__ = "0.1.0"
