"""Inbound mail: receiving, judging and acting on replies, bounces and unsubscribe requests."""
