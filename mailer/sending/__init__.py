"""Sending: campaigns, deliveries, composing, DKIM, transport, rate limit, tasks and dispatch."""
