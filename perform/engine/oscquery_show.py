"""The live show's OSCQuery service: the show's facts for perform/control/oscquery.py, and its start-up."""

from __future__ import annotations

import logging
from typing import Any

from perform.control.oscquery import OSCQueryServer, ShowFacts, held_values
from perform.control.state import ControlState
from perform.render.passes import PASS_TYPES
from perform.setlist.check import shader_param_names

log = logging.getLogger(__name__)


def show_facts(conductor: Any) -> ShowFacts:
    """What the conductor's setlist and models declare: latent size, directions, shader parameters with their
    real ranges (the scene's own value as the default where it sets one), mapping inputs, scenes."""
    setlist = conductor.setlist
    models = list(conductor.models.values())
    params: dict[tuple[str, str], tuple[float, float, float]] = {}
    for scene in setlist.scenes:
        kinds = {s.name: s for s in scene.shaders}
        for pass_, param in sorted(shader_param_names(scene)):
            spec = kinds.get(pass_)
            cls = PASS_TYPES.get(spec.type if spec is not None else "display")
            if cls is None or param not in cls.params or (pass_, param) in params:
                continue
            p = cls.params[param]
            own = spec.params.get(param) if spec is not None else None
            params[(pass_, param)] = (float(p.min), float(p.max), float(own) if isinstance(own, (int, float)) else float(p.default))
    inputs: dict[str, tuple[float, float]] = {}
    for rt in conductor.runtimes:
        for s in getattr(rt.mapper, "specs", ()):
            if s.source_kind == "in":
                inputs.setdefault(s.source_name, tuple(s.in_range))
    return ShowFacts(
        latent_dim=max((m.latent_dim for m in models), default=0),
        directions=tuple(sorted(set().union(*(m.directions for m in models)))) if models else (),
        shader_params=tuple((a, b, *v) for (a, b), v in sorted(params.items())),
        inputs=tuple((n, float(lo), float(hi)) for n, (lo, hi) in sorted(inputs.items())),
        scenes=tuple(s.name for s in setlist.scenes),
        title=setlist.show.title,
    )


def open_oscquery(conductor: Any, control: ControlState, osc_host: str, osc_port: int, port: int,
                  mdns: bool = True) -> OSCQueryServer | None:
    """Start the service beside the OSC server on the same host: TCP `port` (the OSC port's number by default,
    as many OSCQuery hosts do), any free port if that one is taken. None, with a log line, if it cannot start:
    OSCQuery is a convenience, and the show goes on without it."""
    def held() -> dict[str, float]:
        return held_values(control.inputs, control.keys, control.overrides)

    facts = show_facts(conductor)
    for p in dict.fromkeys((port, 0)):
        try:
            return OSCQueryServer(facts, held, osc_port, host=osc_host, port=p, mdns=mdns).start()
        except OSError as e:
            log.warning("OSCQuery: cannot listen on tcp %s:%d (%s)%s", osc_host, p, e.strerror or e,
                        "; trying any free port" if p else "; running without OSCQuery")
    return None
