"""The archive site: static HTML pages of past digests (day, month, index) with a client-side search."""
