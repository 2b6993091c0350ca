"""Only the compiled part of the build; everything else is in pyproject.toml.

The extension is optional: without a C compiler the package installs and runs the same, only slower
(`service.logs.shapekey` falls back to mining without the message cache).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("service._native", ["service/_native.c"], optional=True),
    ]
)
