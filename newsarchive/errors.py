"""The one exception the application raises for a user's mistake or a state it cannot work in:
its message is one line, which the command line prints as is."""


class CommandError(Exception):
    """A one-line error for the user (bad arguments, Redis unreachable, a busy archive...)."""
