"""Tests of mailer/sending/."""
