class SyncError(Exception):
    """An outbound-sync action that cannot be done, in a sentence a person can read."""
