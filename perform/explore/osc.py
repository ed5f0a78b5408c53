"""OSC for `perform explore`: its own small route table under /perform/explore/, served by the project's
OSCServer (perform/control/osc_server.py) and codec.

Explore is not a show: these addresses mean nothing to `perform live` and the show's addresses mean nothing
here, so they are not rows of the show's table (control/osc_routes.py ROUTES); `ExploreRouter` stands in
for its Router (the same `route(...)` call, the same Rejected/Ignored answers). The server's one receiving
thread posts ControlEvents to a ControlState; the explore loop drains them between frames and turns them
into session actions (`action_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from perform.control.events import ControlEvent
from perform.control.osc_routes import Ignored, Rejected

PREFIX = "/perform/explore"


def _cell(args: tuple, address: str) -> tuple:
    if len(args) != 1:
        raise Rejected("wrong_type", f"{address}: expected 1 argument (a cell index from 0), got {len(args)}")
    v = args[0]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Rejected("wrong_type", f"{address}: expected a cell index (i or f), got {type(v).__name__} {v!r:.40}")
    if v != v or v in (float("inf"), float("-inf")) or v != int(v) or v < 0 or v > 4096:
        raise Rejected("out_of_range", f"{address}: {v!r:.40} is not a cell index (a whole number from 0)")
    return (int(v),)


def _trigger(args: tuple, address: str) -> tuple:
    if args and isinstance(args[0], (int, float)) and float(args[0]) == 0.0:
        raise Ignored(address)  # a button's release
    return ()


def _strength(args: tuple, address: str) -> tuple:
    if len(args) != 1 or isinstance(args[0], bool) or not isinstance(args[0], (int, float)):
        raise Rejected("wrong_type", f"{address}: expected one number")
    x = float(args[0])
    if not 0.0 <= x <= 4.0:
        raise Rejected("out_of_range", f"{address}: strength {x:g} outside 0..4")
    return (x,)


@dataclass(frozen=True, slots=True)
class ExploreRoute:
    address: str
    args: str
    help: str
    coerce: Callable[[tuple, str], tuple]
    action: str


ROUTES: tuple[ExploreRoute, ...] = (
    ExploreRoute(f"{PREFIX}/pick", "i", "pick (or unpick) the cell, counted from 0 row by row", _cell, "pick"),
    ExploreRoute(f"{PREFIX}/breed", "[f]", "breed the next generation from the picked cells", _trigger, "breed"),
    ExploreRoute(f"{PREFIX}/back", "[f]", "back to the generation this one was bred from", _trigger, "back"),
    ExploreRoute(f"{PREFIX}/favourite", "i", "mark (or unmark) the cell as a favourite", _cell, "favourite"),
    ExploreRoute(f"{PREFIX}/strength", "f", "mutation strength, 0..4", _strength, "strength"),
    ExploreRoute(f"{PREFIX}/save", "[f]", "write the lineage file now", _trigger, "save"),
)
_BY_ADDRESS = {r.address: r for r in ROUTES}


class ExploreRouter:
    """The explore table in the shape OSCServer calls: route(address, args, t_s, origin, reply_to) -> events."""

    def route(self, address: str, args: Sequence, t_s: float, origin: str = "osc",
              reply_to: tuple[str, int] | None = None) -> list[ControlEvent]:
        r = _BY_ADDRESS.get(address)
        if r is None:
            raise Rejected("unknown_address", f"{address}: not an explore address ({', '.join(_BY_ADDRESS)})")
        return [ControlEvent(t_s, address, r.coerce(tuple(args), address), origin, reply_to)]


def action_of(event: ControlEvent) -> dict[str, Any] | None:
    """The session action an event asks for ({"action": "save"} is the loop's own), or None."""
    r = _BY_ADDRESS.get(event.address)
    if r is None:
        return None
    if r.action in ("pick", "favourite"):
        return {"action": r.action, "cell": int(event.args[0])}
    if r.action == "strength":
        return {"action": "strength", "value": float(event.args[0])}
    return {"action": r.action}


def address_table() -> str:
    """The explore addresses as a markdown table (docs/explore.md)."""
    rows = ["| address | args | meaning |", "|---|---|---|"]
    rows += [f"| `{r.address}` | `{r.args}` | {r.help} |" for r in ROUTES]
    return "\n".join(rows)
