"""Tests of mailer/rendering/."""
