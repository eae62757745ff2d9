"""Tests of mailer/content/."""
