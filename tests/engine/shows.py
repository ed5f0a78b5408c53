"""One-scene setlists on the tiny test model (tests/engine/conftest.py), for tests that need a show and not a
particular one. `{models}` is filled in by the setlist_file fixture."""


def one_scene(size: str = "[96, 64]", drive: str | None = "both", seeds: str = "[1]", walk: str | None = None,
              saturation: float | None = 1.0) -> str:
    """A single held scene: `walk` a keyframe_every value (the latent moves on its own); `saturation` a colour
    grade pass named 'grade' (None: no shader). Starts with a blank line, as the files the tests edit did."""
    text = f'\n[show]\nsize = {size}\n[show.defaults]\nmodel = "{{models}}/tiny"\n'
    if drive is not None:
        text += f'drive = "{drive}"\n'
    text += f'[[scene]]\nname = "only"\nseeds = {seeds}\n'
    if walk is not None:
        text += f"keyframe_every = {walk}\n"
    text += 'duration = "hold"\nmapping = []\n'
    if saturation is not None:
        text += f'[[scene.shader]]\ntype = "colour_grade"\nname = "grade"\nparams = {{ saturation = {saturation} }}\n'
    return text
