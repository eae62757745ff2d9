"""Engagement: which reader followed which link of an issue, and the partner's follow-up digest.

Above `inbound` (the digest lists the readers who replied) and below the web and the CLI.
"""
