"""The control addresses the scene scheduler answers to (OSC and keys arrive as ControlEvents alike)."""

from __future__ import annotations

from perform.control.events import ControlEvent
from perform.control.osc_routes import PREFIX

SCENE_NEXT = f"{PREFIX}/scene/next"  # no args, or 1 (a button's 0 on release is ignored)
SCENE_PREV = f"{PREFIX}/scene/prev"
SCENE_GO = f"{PREFIX}/scene/go"      # one arg: a scene name, or its index counting from 0
TEMPO = f"{PREFIX}/tempo"            # one arg: beats per minute
KEY_PREFIX = f"{PREFIX}/key/"        # + key name: /perform/key/right; no args or 1 = pressed, 0 = released

# Arrows and a presentation clicker's page keys move through the show; digit keys 1-9 jump to the first nine scenes
# (key 1 is index 0: a keyboard has no key 0 before 1).
NEXT_KEYS: tuple[str, ...] = ("right", "pagedown")
PREV_KEYS: tuple[str, ...] = ("left", "pageup")
DIGIT_KEYS: tuple[str, ...] = tuple("123456789")

ADDRESSES: dict[str, str] = {
    SCENE_NEXT: "go to the next scene (with the current scene's transition)",
    SCENE_PREV: "go to the previous scene",
    SCENE_GO: "go to a scene by name or index (from 0)",
    TEMPO: "set the tempo in BPM (scene and transition lengths in beats follow it)",
    KEY_PREFIX + "<name>": "a key press (right/left/pagedown/pageup/1-9 move through scenes; others for [scene.advance] keys)",
}


def key_name(name: str) -> str:
    """Key names compare lower case without spaces: "Page Down" and "pagedown" are one key."""
    return name.strip().lower().replace(" ", "").replace("_", "")


def key_address(name: str) -> str:
    """Address of a key press, e.g. key_address("right") -> "/perform/key/right"."""
    return KEY_PREFIX + key_name(name)


def is_press(ev: ControlEvent) -> bool:
    """A trigger fires on a press: no argument, or a non-zero first argument (a release sends 0)."""
    if not ev.args:
        return True
    v = ev.args[0]
    return bool(v) if isinstance(v, (int, float, bool)) else True
