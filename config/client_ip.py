from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address by the same rule sign-in lockouts use (see PROXY_COUNT)."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "")
