"""Property: any TOML text, and any document of TOML values, either loads or raises SetlistError."""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perform.setlist.loader import parse_setlist
from perform.setlist.problems import SetlistError
from perform.setlist.schema import Setlist

KEYS = ["show", "scene", "title", "size", "fps", "tempo_bpm", "input", "defaults", "name", "model", "drive", "mix",
        "keyframes", "seeds", "keyframe_every", "mapping", "shader", "duration", "transition", "advance", "kind",
        "seconds", "beats", "curve", "type", "params", "osc", "keys", "at", "source", "target", "decay", "x"]
WORDS = ["tiny-a", "hold", "cut", "crossfade", "latent", "smoothstep", "face", "both", "feedback", "display",
         "face.yaw", "direction.smile", "/cue", "", "synthetic"]


def toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def toml_value(v) -> str:
    """A tiny TOML serializer for the values hypothesis draws (inline tables and arrays)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_doc(d: dict) -> str:
    return "\n".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in d.items()) + "\n"


scalars = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.sampled_from(WORDS),
                    st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)), max_leaves=25)
scene = st.dictionaries(st.sampled_from(KEYS), values, max_size=8).map(lambda d: {"name": "s", "model": "tiny-a", **d})
docs = st.fixed_dictionaries({"show": st.dictionaries(st.sampled_from(KEYS), values, max_size=6),
                              "scene": st.lists(scene, max_size=3)},
                             optional={"x": values})


def loads_or_setlist_error(text: str, path) -> None:
    try:
        result = parse_setlist(text, path)
    except SetlistError as e:
        assert e.problems and all(p.message for p in e.problems)
        return
    assert isinstance(result, Setlist)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs)
def test_random_documents_load_or_raise_setlist_error(show_dir, doc):
    loads_or_setlist_error(toml_doc(doc), show_dir / "fuzz.toml")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(list('[]{}=."\'#\n abc0123,-_') + ["scene", "show", "[[scene]]", "name", "duration"]),
                max_size=60).map("".join))
def test_random_text_loads_or_raises_setlist_error(show_dir, text):
    loads_or_setlist_error(text, show_dir / "fuzz.toml")
