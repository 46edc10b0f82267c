"""A batch for a tool without a batch endpoint calls for several customers at once (at most
SYNC_CALLS_IN_FLIGHT), each customer's jobs one after another in their order; a failure of the whole
tool stops every lane before its next call and hands the jobs not tried back, attempt not spent."""

import pytest

from sync.models import JobStatus, SyncAttempt, SyncJob
from sync.services.executor import jobs_run
from tests.sync import fakes
from tests.sync.helpers import customer_with_stripe, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(serve):
    tool = serve(fakes.Kit())
    tool.latency = 0.05  # a tool across the internet: calls that overlap are seen overlapping
    return tool


def test_different_customers_calls_overlap_and_each_customers_jobs_keep_their_order(kit, settings):
    settings.SYNC_CALLS_IN_FLIGHT = 4
    ada = customer_with_stripe()
    # Ada's tag is added, then taken off: in any other order she would end up tagged.
    ids = [make_job("email", "add_tag", ada, tag="trial").pk, make_job("email", "remove_tag", ada, tag="trial").pk]
    others = [customer_with_stripe() for _ in range(6)]
    ids += [make_job("email", "add_tag", customer, tag="trial").pk for customer in others]
    assert jobs_run(job_ids=ids, worker="worker-1") == {pk: "succeeded" for pk in ids}
    assert 2 <= kit.most_in_flight <= 4
    assert kit.tags_of(ada.email) == set()
    assert all(kit.tags_of(customer.email) == {"trial"} for customer in others)
    assert SyncAttempt.objects.filter(job_id__in=ids).count() == len(ids)  # one try each


def test_with_one_call_in_flight_a_batch_calls_one_after_another(kit, settings):
    settings.SYNC_CALLS_IN_FLIGHT = 1
    ids = [make_job("email", "add_tag", tag="trial").pk for _ in range(4)]
    assert jobs_run(job_ids=ids, worker="worker-1") == {pk: "succeeded" for pk in ids}
    assert kit.most_in_flight == 1


def test_a_tool_down_stops_every_lane_and_hands_back_what_was_not_tried(kit, settings):
    settings.SYNC_CALLS_IN_FLIGHT = 4
    kit.force = (503, {"errors": ["down"]})
    ids = [make_job("email", "add_tag", tag="trial").pk for _ in range(8)]
    outcomes = jobs_run(job_ids=ids, worker="worker-1")
    tried = [pk for pk in ids if SyncAttempt.objects.filter(job_id=pk).exists()]
    assert 1 <= len(tried) <= 4  # only the calls already in flight when the first failure came back
    assert {outcomes[pk] for pk in tried} == {"retrying"}
    untried = SyncJob.objects.filter(pk__in=ids).exclude(pk__in=tried)
    assert untried.count() == len(ids) - len(tried)
    for job in untried:
        assert (job.status, job.attempts, job.lease_owner) == (JobStatus.PENDING, 0, "")
        assert job.last_error.startswith("Not tried yet: kit answered 503")


def _subscriber_upserts(kit) -> int:
    return sum(1 for method, path, _ in kit.calls if (method, path) == ("POST", "/v4/subscribers"))


def test_a_customers_jobs_in_one_batch_upsert_their_subscriber_once(kit, settings):
    settings.SYNC_CALLS_IN_FLIGHT = 4
    ada, bob = customer_with_stripe(), customer_with_stripe()
    ids = [make_job("email", "add_tag", customer, tag=tag).pk
           for customer, tag in ((ada, "trial"), (ada, "plan-pro"), (bob, "trial"))]
    assert jobs_run(job_ids=ids, worker="worker-1") == {pk: "succeeded" for pk in ids}
    assert _subscriber_upserts(kit) == 2  # one per customer, not one per job
    assert kit.tags_of(ada.email) == {"trial", "plan-pro"}
    assert kit.tags_of(bob.email) == {"trial"}
    first, second = (SyncJob.objects.get(pk=pk) for pk in ids[:2])
    assert first.external_id == second.external_id != ""
    # The second job's attempt shows its upsert answered by the first one's, with what it asked.
    attempt = SyncAttempt.objects.get(job_id=second.pk)
    calls = attempt.request_summary["calls"]
    assert calls[0]["answered_earlier_in_batch"] is True and calls[0]["path"] == "/v4/subscribers"
    assert attempt.response_summary["calls"][0]["status"] == 201  # the first job's answer
    # The answers last one batch: the next one upserts again.
    later = make_job("email", "add_tag", ada, tag="vip").pk
    assert jobs_run(job_ids=[later], worker="worker-1") == {later: "succeeded"}
    assert _subscriber_upserts(kit) == 3


def test_a_refused_upsert_is_not_reused_the_customers_next_job_sends_its_own(kit, settings):
    settings.SYNC_CALLS_IN_FLIGHT = 4
    upsert, refused = kit.upsert, []

    def refuse_once(request):
        if not refused:
            refused.append(request)
            return 422, {"errors": ["Email address is invalid"]}
        return upsert(request)

    kit.upsert = refuse_once
    ada = customer_with_stripe()
    ids = [make_job("email", "add_tag", ada, tag=tag).pk for tag in ("trial", "plan-pro")]
    outcomes = jobs_run(job_ids=ids, worker="worker-1")
    assert outcomes[ids[0]] != "succeeded" and outcomes[ids[1]] == "succeeded"
    assert _subscriber_upserts(kit) == 2
    assert kit.tags_of(ada.email) == {"plan-pro"}
