"""Learning from the team: the prefilter, reactions that move papers, personal rankings, criteria suggestions.

Imports bot.scoring and bot.domain (and the Store).
"""
