"""Outbound webhooks: Switchboard's own event catalog, and deliveries signed by the Standard Webhooks
specification so any Standard Webhooks or Svix verifier accepts them."""
