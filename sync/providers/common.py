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


NOTE_ACTION = "add_note"
# The community's "take these spaces away" (a downgrade, or drift repaired): the member stays.
REMOVE_SPACES = "remove_from_spaces"


def note_marker(payload: Payload) -> str:
    """The words that find a note again in the CRM (search-before-create on a retry)."""
    return f"Switchboard note {payload.get('note_id')}"


def note_text(payload: Payload) -> str:
    """A note as the CRM shows it: what was written, who wrote it, and the way back to the 360."""
    text = payload.get("text") or ""
    corrects = payload.get("corrects_written_at") or ""
    if corrects:
        text = f"Correction of the note of {corrects[:16].replace('T', ' ')} UTC:\n{text}"
    by = payload.get("author") or "Switchboard"
    return f"{text}\n\n— {by} · {note_marker(payload)} · {payload.customer_url}"
