"""Workers: a failing step is recovered while running, and never once stopping has begun."""

from __future__ import annotations

import logging
import threading

from perform.engine.worker import Worker
from perform.errors import ErrorReporter


def test_no_recovery_once_stop_has_begun():
    recovered, failed = [], threading.Event()
    worker: Worker

    def step():
        if recovered:  # recovered once while running; now shutdown begins and the stage fails again
            worker.stop()
            failed.set()
        raise RuntimeError("the stage failed")

    worker = Worker("t", step, ErrorReporter(logging.getLogger("test")), on_error=recovered.append, backoff_s=0.001)
    worker.start()
    assert failed.wait(10)
    assert worker.join(5)
    assert len(recovered) == 1 and worker.restarts == 2  # the failure during shutdown started nothing new
