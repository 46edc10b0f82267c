class SupportError(Exception):
    """A support action that cannot be done, with a sentence a person can read."""
