"""Celery entry points: thin, the database rows carry the state."""

from celery import shared_task

from webhooks.services import endpoints_disable_failing


@shared_task(name="webhooks.disable_failing", ignore_result=True)
def disable_failing() -> list[int]:
    return endpoints_disable_failing()
