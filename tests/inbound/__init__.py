"""Tests of mailer/inbound/."""
