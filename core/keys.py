"""What a Stripe API key says about its mode; read by settings and the launch checks alike."""

LIVE_PREFIXES = ("sk_" + "live_", "rk_" + "live_")
TEST_PREFIXES = ("sk_" + "test_", "rk_" + "test_")


def is_live_key(key: str) -> bool:
    return key.startswith(LIVE_PREFIXES)


def is_test_key(key: str) -> bool:
    return key.startswith(TEST_PREFIXES)
