"""Hot reload of the setlist at a frame boundary: a good edit swaps in, a broken one keeps the last good."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from perform.errors import PerformError

log = logging.getLogger(__name__)

POLL_S = 0.25  # how often the file is looked at (a stat; cheap, but not per frame)


class SetlistReloader:
    """Called between frames on the main thread (new shader chains need GL): polls the watcher, loads the
    models a new setlist adds (those already loaded are reused), swaps conductor and presenter over.

    An edit that needs a model not loaded yet (`needs_loading`) has its models built on a thread of their
    own while the show goes on (a model's load on the render thread was a visible stall), and swaps in at the
    first frame after; an edit saved meanwhile waits for it, and only the newest is loaded next. Any failure,
    in the file or in building the new scenes, leaves the running setlist as it is and puts the message on
    the conductor (the HUD shows it) until an edit fixes it.
    """

    def __init__(self, watcher: Any, conductor: Any, presenter: Any,
                 build_models: Callable[[Any, dict], dict], on_swap: Callable[[], None] | None = None,
                 needs_loading: Callable[[Any, dict], bool] | None = None) -> None:
        self.watcher = watcher
        self.conductor = conductor
        self.presenter = presenter
        self._build_models = build_models
        self._on_swap = on_swap  # e.g. the OSC routes follow the new setlist's passes, directions, latent size
        self._needs_loading = needs_loading
        self._next_s = 0.0
        self._loading: _Load | None = None  # models being built off the render thread
        self._queued: Any = None  # an edit saved while they were: loaded next
        self.reloads = 0
        self.failures = 0

    def __call__(self, now_s: float) -> None:
        if self._loading is not None and self._loading.done.is_set():
            self._finish(self._loading)
        if now_s < self._next_s:
            return
        self._next_s = now_s + POLL_S
        result = self.watcher.poll()
        if result is None:
            return
        if isinstance(result, str):
            self._fail(result)
            return
        if self._loading is not None:
            self._queued = result
            return
        self._start(result)

    @property
    def loading(self) -> bool:
        """Models of an edit are being built off the render thread."""
        return self._loading is not None

    def _start(self, setlist: Any) -> None:
        cache = dict(self.conductor.models)
        try:
            background = self._needs_loading is not None and self._needs_loading(setlist, cache)
        except (PerformError, ValueError, KeyError, OSError) as exc:
            self._fail(f"{self.watcher.path}: cannot use this edit: {exc}")
            return
        load = _Load(setlist, cache, self._build_models)
        if not background:
            load.run()
            self._finish(load)
            return
        log.info("setlist edit: loading its new models while the show goes on")
        self._loading = load
        threading.Thread(target=load.run, name="setlist-models", daemon=True).start()

    def _finish(self, load: "_Load") -> None:
        self._loading = None
        try:
            if load.error is not None:
                raise load.error
            self.conductor.swap(load.setlist, load.models)
            self.presenter.sync(self.conductor.chains())
        except (PerformError, ValueError, KeyError, OSError) as exc:
            self._fail(f"{self.watcher.path}: cannot use this edit: {exc}")
        else:
            self.reloads += 1
            log.info("setlist swapped in (scene %s kept)", self.conductor.scene_name)
            if self._on_swap is not None:
                self._on_swap()
        queued, self._queued = self._queued, None
        if queued is not None:
            self._start(queued)

    def _fail(self, message: str) -> None:
        self.failures += 1
        self.conductor.reload_error = message
        log.error("setlist edit refused; the last good setlist keeps running: %s", message.splitlines()[0])


class _Load:
    """One edit's models, built by run() (on the render thread, or one of its own)."""

    def __init__(self, setlist: Any, cache: dict, build: Callable[[Any, dict], dict]) -> None:
        self.setlist, self._cache, self._build = setlist, cache, build
        self.models: dict | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.models = self._build(self.setlist, self._cache)
        except (PerformError, ValueError, KeyError, OSError) as exc:
            self.error = exc
        except Exception as exc:  # a thread of its own: never lost, reported as a refused edit
            log.exception("setlist edit: building its models failed")
            self.error = PerformError(f"building its models failed: {exc}")
        finally:
            self.done.set()
