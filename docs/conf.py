"""Sphinx configuration: build with ``bash scripts/docs.sh`` (nitpicky, warnings are errors).

No network: no intersphinx; external types the signatures mention are listed in
``nitpick_ignore`` below instead of being linked.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import sirecommend  # noqa: E402

project = "sirecommend"
author = "sirecommend developers"
copyright = "sirecommend developers"
release = sirecommend.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sirecommend_docs",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "README.md"]
root_doc = "index"

html_theme = "furo"
html_title = f"sirecommend {release}"
html_static_path: list[str] = []

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # the included decision record starts at level 1

autodoc_member_order = "bysource"
# Types come from the numpydoc docstrings: the annotations of pydantic fields
# (Annotated[..., Field(...)]) read badly and name private aliases.
autodoc_typehints = "none"
autodoc_default_options = {
    # pydantic's machinery, not the library's API
    "exclude-members": "model_config, model_fields, model_computed_fields",
}
autodoc_class_signature = "separated"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

nitpicky = True
# Types from outside the project (no intersphinx: the build uses no network) and the
# plain-words types of numpydoc ("sequence of str", "optional") that name no object.
nitpick_ignore_regex = [
    (
        r"py:class",
        r"(pydantic|networkx|nx|hypothesis|st|annotated_types|collections|typing"
        r"|typing_extensions|pathlib|os|datetime|sqlite3)\..*",
    ),
    (
        r"py:class",
        r"(Path|PathLike|Mapping|Sequence|Iterable|Iterator|Hashable|Any|Callable"
        r"|MultiDiGraph|SearchStrategy|ConfigDict|FieldInfo|ComputedFieldInfo|Literal)",
    ),
    (r"py:class", r"(str|int|float|bool|bytes|dict|list|tuple|set|frozenset|object|None|type)"),
    (
        r"py:class",
        r"(mapping|sequence|iterable|iterator|callable|path|path-like|optional"
        r"|default.*|sequence of .*|mapping of .*|iterable of .*|.* or .*"
        r"|callable|path-like|a .*|an .*|the .*|array.*)",
    ),
    (r"py:class", r"sirecommend\._.*"),
    (r"py:obj", r"(typing|collections)\..*"),
    (r"py:(func|class|meth|obj)", r"sirecommend\._.*"),  # private helpers docstrings mention
    (r"py:exc", r"pydantic\..*"),
    (r"py:class", r"enum\..*"),
]
