"""Plain domain values and rules: papers, digests, settings, arXiv's calendar, the platform contract.

The bottom layer: imports nothing of ours but its own modules (ARCHITECTURE.md).
"""
