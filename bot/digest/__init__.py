"""The digest workflow: a day's run for a profile, posting it to channels once, the days owed, the schedule.

Imports the layers below it (learning, scoring, domain) and the Store.
"""
