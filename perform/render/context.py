"""Headless OpenGL contexts through EGL (Mesa llvmpipe where there is no GPU)."""

from __future__ import annotations

import importlib.util

import moderngl

from perform.errors import PerformError

# GLSL 330 core is what the shaders are written for; llvmpipe gives 4.5.
REQUIRED_GL = 330


def load_llvm_users_first() -> None:
    """Load triton (if installed) before Mesa's llvmpipe: call before creating any GL context.

    torch's default Linux build ships triton, whose library carries its own copy of LLVM. Once Mesa's
    llvmpipe has loaded its LLVM into the process, loading triton's (torch does on the first optimiser, through
    torch._dynamo) crashes the process with a segmentation fault; loaded in the other order, both work.
    """
    if importlib.util.find_spec("triton") is None:
        return
    try:
        import triton  # noqa: F401  (loaded for its side effect on the dynamic linker, see above)
    except Exception:  # a broken triton is torch's business, not the renderer's: torch reports it if it needs it
        return


def create_headless_context(require: int = REQUIRED_GL) -> moderngl.Context:
    """A standalone EGL context for offline rendering and tests.

    GL objects are freed explicitly by their owners, or by `collect_garbage(ctx)`, which the frame loop calls
    once a frame on the main thread: the Python garbage collector may run on any thread, and GL must not.
    """
    load_llvm_users_first()
    try:
        ctx = moderngl.create_standalone_context(require=require, backend="egl")
    except Exception as exc:  # moderngl raises plain Exception for a missing/unusable EGL
        raise PerformError(
            f"could not create a headless OpenGL {require // 100}.{require % 100 // 10} context through EGL: {exc}"
            " (install Mesa's EGL, e.g. libegl1 and libgl1-mesa-dri)"
        ) from exc
    configure_context(ctx)
    return ctx


def configure_context(ctx: moderngl.Context) -> None:
    """Settings every perform context shares, window or headless."""
    ctx.gc_mode = "context_gc"


def collect_garbage(ctx: moderngl.Context) -> int:
    """Free the GL objects dropped since the last call; use instead of `ctx.gc()`, once a frame.

    moderngl (5.13) queues an object on `ctx.objects` when it is garbage-collected even if its owner already
    released it, and `ctx.gc()` then fails on that released entry; this skips them.
    """
    objects = ctx.objects
    freed = 0
    while objects:
        obj = objects.popleft()
        if isinstance(obj, moderngl.InvalidObject):
            continue
        obj.release()
        freed += 1
    return freed


def describe_context(ctx: moderngl.Context) -> str:
    """One line for the HUD and `perform info`: renderer and GL version."""
    info = ctx.info
    return f"{info.get('GL_RENDERER', '?')} (GL {ctx.version_code // 100}.{ctx.version_code % 100 // 10})"
