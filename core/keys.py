"""What a key says about itself, read by settings and the launch checks alike: the mode of a Stripe API
key, and the development SECRET_KEY that production refuses."""

INSECURE_SECRET_KEY = "insecure-development-key-do-not-use-in-production"

LIVE_PREFIXES = ("sk_" + "live_", "rk_" + "live_")
TEST_PREFIXES = ("sk_" + "test_", "rk_" + "test_")


def is_live_key(key: str) -> bool:
    return key.startswith(LIVE_PREFIXES)


def is_test_key(key: str) -> bool:
    return key.startswith(TEST_PREFIXES)
