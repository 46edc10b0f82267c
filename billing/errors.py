"""Billing's family of errors: a sentence a person can read, raised by services, shown by views."""


class BillingError(Exception):
    """A billing action that cannot be done, with a sentence a person can read."""
