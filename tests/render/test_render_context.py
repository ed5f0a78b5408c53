"""The headless context: settings, garbage collection on the rendering thread, compiling every shader."""

from __future__ import annotations

import gc

import pytest

from perform.render.context import collect_garbage, describe_context
from perform.render.shaders import ShaderLibrary, compile_all

pytestmark = pytest.mark.gl


def test_context_collects_dropped_objects_only_when_asked(ctx):
    assert ctx.gc_mode == "context_gc"
    collect_garbage(ctx)
    tex = ctx.texture((4, 4), 3)
    released = ctx.texture((4, 4), 3)
    released.release()  # released by its owner, then dropped: must not break the collection
    del tex, released
    gc.collect()
    assert len(ctx.objects) == 2
    assert collect_garbage(ctx) == 1
    assert len(ctx.objects) == 0
    assert "GL 4" in describe_context(ctx) or "GL 3" in describe_context(ctx)


def test_every_shipped_shader_compiles(ctx):
    assert compile_all(ctx) == []


def test_compile_all_reports_a_broken_shader_with_its_log(ctx, shader_copy):
    (shader_copy / "broken.frag").write_text("#version 330 core\nout vec4 c;\nvoid main() { c = vec4(1.0) }\n")
    errors = compile_all(ctx, ShaderLibrary(shader_copy))
    assert [e.name for e in errors] == ["broken.frag"]
    assert "broken.frag failed to compile" in str(errors[0]) and errors[0].log
