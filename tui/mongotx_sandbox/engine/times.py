"""The current time as the server writes it into documents ($currentDate, $$NOW,
$$CLUSTER_TIME)."""

from __future__ import annotations

import datetime
import time

from bson.timestamp import Timestamp


def now_datetime() -> datetime.datetime:
    """Current time as bson stores it: naive UTC, millisecond precision."""
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def now_timestamp() -> Timestamp:
    return Timestamp(int(time.time()), 1)
