"""Tests of mailer/cli/."""
