from billing.services.processing import BillingError, event_process, event_replay

__all__ = ["BillingError", "event_process", "event_replay"]
