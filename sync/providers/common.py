"""What several adapters check or write the same way."""

from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.payload import Payload


def unsupported(provider: str, payload: Payload) -> ProviderError:
    return ProviderError(f"{provider} cannot {payload.action.replace('_', ' ')}", permanent=True,
                         reason_code=ReasonCode.VALIDATION)


def need_email(provider: str, payload: Payload) -> None:
    if not payload.email:
        raise ProviderError(f"{provider} needs the customer's email, and this customer has none",
                            permanent=True, reason_code=ReasonCode.VALIDATION)


def ticket_text(payload: Payload) -> tuple[str, str]:
    subject = payload.get("subject") or payload.action.replace("_", " ").capitalize()
    body = (f"{subject} for {payload.name or payload.public_id} (plan {payload.get('plan') or '-'}, "
            f"status {payload.get('status') or '-'}). Details: {payload.customer_url}")
    # A support ticket brings its own text: what the person wrote, and who the customer is.
    return subject, payload.get("body") or body
