"""RegisteredModel.retrain_overdue_days: the one reading of the retraining schedule (pages, API, checks)."""

import datetime

import pytest

from catalog.models import RegisteredModel

NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("due", "days"),
    [
        (None, None),  # no schedule
        (NOW + datetime.timedelta(minutes=1), None),  # not yet due
        (NOW, None),  # due this instant: not late yet
        (NOW - datetime.timedelta(hours=23), 0),  # late, by less than a day
        (NOW - datetime.timedelta(days=3, hours=1), 3),
    ],
)
def test_overdue_days_count_whole_days_past_due(due, days):
    model = RegisteredModel(name="m", next_retrain_due=due)
    assert model.retrain_overdue_days(NOW) == days
    assert model.is_retrain_overdue(NOW) is (days is not None)
