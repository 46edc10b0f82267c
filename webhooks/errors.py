class WebhookError(Exception):
    """An endpoint action refused, with a sentence a person can act on."""
