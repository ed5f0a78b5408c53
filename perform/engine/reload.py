"""Hot reload of the setlist at a frame boundary: a good edit swaps in, a broken one keeps the last good."""

from __future__ import annotations

import logging
from typing import Any, Callable

from perform.errors import PerformError

log = logging.getLogger(__name__)

POLL_S = 0.25  # how often the file is looked at (a stat; cheap, but not per frame)


class SetlistReloader:
    """Called between frames on the main thread (new shader chains need GL): polls the watcher, loads the
    models a new setlist adds (those already loaded are reused), swaps conductor and presenter over.

    Any failure, in the file or in building the new scenes, leaves the running setlist as it is and puts
    the message on the conductor (the HUD shows it) until an edit fixes it.
    """

    def __init__(self, watcher: Any, conductor: Any, presenter: Any,
                 build_models: Callable[[Any, dict], dict], on_swap: Callable[[], None] | None = None) -> None:
        self.watcher = watcher
        self.conductor = conductor
        self.presenter = presenter
        self._build_models = build_models
        self._on_swap = on_swap  # e.g. the OSC routes follow the new setlist's passes, directions, latent size
        self._next_s = 0.0
        self.reloads = 0
        self.failures = 0

    def __call__(self, now_s: float) -> None:
        if now_s < self._next_s:
            return
        self._next_s = now_s + POLL_S
        result = self.watcher.poll()
        if result is None:
            return
        if isinstance(result, str):
            self._fail(result)
            return
        try:
            models = self._build_models(result, self.conductor.models)
            self.conductor.swap(result, models)
            self.presenter.sync(self.conductor.chains())
        except (PerformError, ValueError, KeyError, OSError) as exc:
            self._fail(f"{self.watcher.path}: cannot use this edit: {exc}")
            return
        self.reloads += 1
        log.info("setlist swapped in (scene %s kept)", self.conductor.scene_name)
        if self._on_swap is not None:
            self._on_swap()

    def _fail(self, message: str) -> None:
        self.failures += 1
        self.conductor.reload_error = message
        log.error("setlist edit refused; the last good setlist keeps running: %s", message.splitlines()[0])
