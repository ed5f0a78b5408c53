"""Build step beyond pyproject.toml: the wheel carries the repository's shaders/ and models/ folders.

They are copied into the package (perform/shaders, perform/models) when the wheel is built, so the
top-level folders stay the one source; perform.resources finds the copies, or the folders themselves in
a clone or an editable install.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# folder -> the files of it that are shipped
PACKAGED_FOLDERS = {"shaders": ("*.frag", "*.vert", "*.glsl"), "models": ("*.json", "*.safetensors")}


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the repository's folders directly
        for folder, patterns in PACKAGED_FOLDERS.items():
            for pattern in patterns:
                for src in sorted(Path(folder).glob(pattern)):
                    dest = Path(self.build_lib, "perform", folder, src.name)
                    self.mkpath(str(dest.parent))
                    self.copy_file(str(src), str(dest))


setup(cmdclass={"build_py": BuildPyWithData})
