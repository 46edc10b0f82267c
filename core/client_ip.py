from django.http import HttpRequest

from core.logs import log_hash


def client_ip(request: HttpRequest) -> str:
    """The client's address by the same rule sign-in lockouts use (see PROXY_COUNT)."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "")


def client_log_str(username: str, ip_address: str, user_agent: str, path_info: str, request: HttpRequest) -> str:
    """How sign-in lockouts name a client in their log lines (AXES_CLIENT_STR_CALLABLE): hashes of the
    address and the email, never the values."""
    return f"{{client: {log_hash(ip_address or '')}, username: {log_hash((username or '').strip().lower())}}}"
