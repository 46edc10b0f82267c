from billing.errors import BillingError
from billing.services.processing import event_process, event_replay

__all__ = ["BillingError", "event_process", "event_replay"]
