"""The screens part measures pages in a process set up as a gunicorn worker is: its earlier objects frozen."""

import gc

import pytest

from bench import screens
from tests.factories import CustomerFactory


@pytest.mark.django_db
def test_every_page_is_answered_with_the_earlier_objects_frozen_and_released_afterwards():
    frozen_during_collections = []

    def watch(phase, info):
        if phase == "start":
            frozen_during_collections.append(gc.get_freeze_count())

    CustomerFactory(public_id=f"sw_bench{screens.SAMPLE:010d}")  # the customer whose page is measured
    assert gc.get_freeze_count() == 0
    # Calling the decorated function allocates a few objects before its freeze: a young-generation
    # collection due in those few would be seen unfrozen. Collected now, none is due for hundreds more.
    gc.collect(0)
    gc.callbacks.append(watch)
    try:
        measured = screens.measure_pages(screens.owner(), repeats=1)
    finally:
        gc.callbacks.remove(watch)
    assert set(measured) == {name for name, _ in screens.PAGES}
    assert all(figures["queries"] > 0 for figures in measured.values())
    assert frozen_during_collections and min(frozen_during_collections) > 0
    assert gc.get_freeze_count() == 0  # the rest of the run collects as before
