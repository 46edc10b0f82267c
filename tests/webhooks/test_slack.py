"""Slack notices: one per chosen fact, none for the unchosen, no email or name unless enabled."""

from webhooks import slack

URL = "https://switchboard.example.com/customers/c-1/"


def route(*notices, threshold=10000, personal=False):
    return slack.Route(frozenset(notices), refund_threshold_cents=threshold, personal_data=personal)


def test_each_chosen_fact_is_a_notice_and_the_unchosen_are_not():
    chosen = route(slack.PAYMENT_FAILED, slack.DISPUTE_OPENED)
    assert slack.wanted(chosen, "payment.failed", {}) == slack.PAYMENT_FAILED
    assert slack.wanted(chosen, "dispute.opened", {}) == slack.DISPUTE_OPENED
    assert slack.wanted(chosen, "customer.status_changed", {"to": "active"}) == ""
    assert slack.wanted(chosen, "refund.succeeded", {"amount_cents": 99999}) == ""
    assert slack.wanted(chosen, "payment.succeeded", {}) == ""


def test_a_new_paying_customer_is_one_who_becomes_active_for_the_first_time():
    chosen = route(slack.NEW_PAYING)
    assert slack.wanted(chosen, "customer.status_changed", {"to": "active"}) == slack.NEW_PAYING
    assert slack.wanted(chosen, "customer.status_changed", {"to": "active", "was_paying": True}) == ""
    assert slack.wanted(chosen, "customer.status_changed", {"to": "past_due"}) == ""


def test_only_refunds_above_the_threshold_are_told():
    chosen = route(slack.BIG_REFUND, threshold=10000)
    assert slack.wanted(chosen, "refund.succeeded", {"amount_cents": 10000}) == ""
    assert slack.wanted(chosen, "refund.succeeded", {"amount_cents": 10001}) == slack.BIG_REFUND


def test_by_default_a_notice_carries_the_id_and_plan_and_the_360_link_but_no_email_or_name():
    text = slack.body(route(slack.PAYMENT_FAILED), slack.PAYMENT_FAILED, customer="c-1", plan="pro",
                      customer_url=URL, data={"amount_cents": 4900, "currency": "usd"},
                      email="ada@example.com", name="Ada Lovelace")["text"]
    assert "c-1 (pro)" in text and URL in text and "49.00 USD" in text
    assert "ada@example.com" not in text and "Ada" not in text


def test_the_owner_may_let_a_route_carry_email_and_name():
    text = slack.body(route(slack.PAYMENT_FAILED, personal=True), slack.PAYMENT_FAILED, customer="c-1",
                      plan="pro", customer_url=URL, data={}, email="ada@example.com", name="Ada Lovelace")["text"]
    assert "Ada Lovelace <ada@example.com>" in text and "c-1 (pro)" in text
