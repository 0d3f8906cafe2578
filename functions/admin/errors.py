"""The one error of the operators' tools."""


class Refused(Exception):
    """The operation cannot be done as asked; the message tells the operator why."""
