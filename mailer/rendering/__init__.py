"""Rendering an issue once: the email (HTML and text), the PDF and web editions, preflight."""
