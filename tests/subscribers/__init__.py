"""Tests of the subscribers package."""
