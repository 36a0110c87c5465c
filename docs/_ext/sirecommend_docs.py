"""Pages generated at build time: the CLI reference (from the argparse parser) and the
evidence page (every rule, red flag and stretch of ``load_knowledge()``, with citations).

Both emit reStructuredText that Sphinx parses in place, so the pages cannot drift from
the code or the knowledge. The knowledge is rendered generically from each entry's
``model_dump()``, so a new field shows up without a change here.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
from collections.abc import Iterator
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.parsing import nested_parse_to_nodes

_CITE = re.compile(r"^(?P<source>[a-z0-9][a-z0-9._-]*)(?:#(?P<where>\S+))?$")


def _esc(text: object) -> str:
    """Text safe to put inside reST inline markup-free prose."""
    return re.sub(r"([\\*`_|\[\]])", r"\\\1", str(text))


def _parse(directive: SphinxDirective, lines: list[str]) -> list[nodes.Node]:
    """Parse generated reST in place; its section titles nest under the page's."""
    return list(
        nested_parse_to_nodes(
            directive.state, StringList(lines, source="<generated>"), allow_section_headings=True
        )
    )


# --------------------------------------------------------------------------- CLI


class CliReference(SphinxDirective):
    """``.. sirecommend-cli::`` -- every command's ``--help``, with the shipped ids."""

    def run(self) -> list[nodes.Node]:
        from sirecommend import load_knowledge
        from sirecommend.cli import _build_parser

        os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal: pin it
        parser = _build_parser(load_knowledge())
        lines = [".. code-block:: text", ""]
        lines += ["   " + line for line in parser.format_help().splitlines()]
        lines.append("")
        sub_action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, sub in sub_action.choices.items():
            title = f"sirecommend {name}"
            lines += [title, "-" * len(title), "", ".. code-block:: text", ""]
            lines += ["   " + line for line in sub.format_help().splitlines()]
            lines.append("")
        return _parse(self, lines)


# --------------------------------------------------------------------------- API


class ApiReference(SphinxDirective):
    """``.. sirecommend-api:: MODULE`` -- every name in ``MODULE.__all__``, documented.

    Driven by ``__all__``, so a name added to the public API appears without an edit here.
    """

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        import importlib

        modname = self.arguments[0]
        module = importlib.import_module(modname)
        lines = [f".. automodule:: {modname}", "   :no-members:", ""]
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                kind = "autoexception"
            elif inspect.isclass(obj):
                kind = "autoclass"
            elif inspect.isfunction(obj):
                kind = "autofunction"
            else:
                kind = "autodata"
            lines.append(f".. {kind}:: {modname}.{name}")
            if kind in {"autoclass", "autoexception"}:
                lines.append("   :members:")
            lines.append("")
        return _parse(self, lines)


# --------------------------------------------------------------------------- evidence


def _cites(values: list[str]) -> str:
    out = []
    for cite in values:
        m = _CITE.match(cite)
        source = m.group("source") if m else cite
        out.append(f":ref:`{_esc(cite)} <source-{source}>`")
    return ", ".join(out)


def _field(name: str, value: Any, indent: str = "") -> Iterator[str]:
    """One field of an entry as reST list items; ``cites`` become links to the sources."""
    label = name.replace("_", " ")
    if name == "cites":
        yield f"{indent}- *cited:* {_cites(value)}"
    elif isinstance(value, dict):
        text = value.get("text")
        rest = {k: v for k, v in value.items() if k not in {"text", "cites"}}
        head = f"{indent}- **{label}**"
        if text is not None:
            head += f": {_esc(text)}"
        if rest:
            head += (
                " ("
                + "; ".join(f"{k.replace('_', ' ')} {_esc(_plain(v))}" for k, v in rest.items())
                + ")"
            )
        if "cites" in value:
            head += f" [{_cites(value['cites'])}]"
        yield head
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        yield f"{indent}- **{label}**:"
        yield ""
        for item in value:
            yield from _field("item", item, indent + "  ")
        yield ""
    else:
        yield f"{indent}- **{label}**: {_esc(_plain(value))}"


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _entries(title: str, entries: list[Any], underline: str = "-") -> Iterator[str]:
    yield title
    yield underline * len(title)
    yield ""
    for entry in entries:
        data = entry.model_dump(mode="json", exclude_defaults=True)
        ident = data.pop("id", "")
        name = data.pop("name", None) or ident
        head = f"{_esc(name)} (``{ident}``)"
        yield head
        yield "~" * len(head)
        yield ""
        for key, value in data.items():
            yield from _field(key, value)
        yield ""


class Evidence(SphinxDirective):
    """``.. sirecommend-evidence::`` -- the shipped knowledge, entry by entry, cited."""

    def run(self) -> list[nodes.Node]:
        from sirecommend import load_knowledge

        kb = load_knowledge()
        lines: list[str] = [
            f"Generated from the shipped knowledge ({_esc(kb.summary().splitlines()[0])}).",
            "",
        ]
        lines += _entries("Safety rules", list(kb.rules.values()))
        rank = {u.id: u.rank for u in kb.urgencies.values()}
        lines += ["Red flags", "-" * 9, ""]
        for tier in sorted(kb.urgencies.values(), key=lambda u: -u.rank):
            flags = [f for f in kb.red_flags.values() if f.urgency == tier.id]
            title = f"Urgency: {tier.id.replace('_', ' ')} (rank {rank[tier.id]})"
            lines += [title, "~" * len(title), "", f"*What to do:* {_esc(tier.action)}", ""]
            if tier.cites:
                lines += [f"*Cited:* {_cites(list(tier.cites))}", ""]
            for flag in flags:
                lines.append(
                    f"- **{_esc(flag.name)}** (``{flag.id}``): {_esc(flag.message)} "
                    f"[{_cites(list(flag.cites))}]"
                )
            lines.append("")
        lines += _entries("Stretches", list(kb.stretches.values()))
        lines += _entries("Contexts", list(kb.contexts.values()))
        lines += ["Sources", "-" * 7, ""]
        for source in kb.sources.values():
            data = source.model_dump(mode="json", exclude_defaults=True)
            lines += [
                f".. _source-{source.id}:",
                "",
                f"``{source.id}``",
                "~" * (len(source.id) + 4),
                "",
            ]
            for key, value in data.items():
                if key != "id":
                    lines += list(_field(key, value))
            lines.append("")
        return _parse(self, lines)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("sirecommend-cli", CliReference)
    app.add_directive("sirecommend-evidence", Evidence)
    app.add_directive("sirecommend-api", ApiReference)
    app.connect("autodoc-process-docstring", _no_inline_type, priority=400)
    app.connect("missing-reference", _public_name)
    app.connect("autodoc-process-docstring", _snomed_terms)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


_SNOMED = re.compile(r"(\d{6,18}) \|([^|\n]+)\|")


def _snomed_terms(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Keep SNOMED CT's ``code |term|`` notation literal (reST would read a substitution)."""
    for i, line in enumerate(lines):
        lines[i] = _SNOMED.sub(r"\1 \\|\2\\|", line)


def _no_inline_type(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Keep napoleon from reading an attribute comment's first words as its type.

    ``#: Where each entry came from: ...`` is prose; napoleon would take the text before
    the colon as a type. An empty type in front keeps the whole line as the description.
    """
    own = " ".join((inspect.getdoc(type(obj)) or "").split())
    if what in {"attribute", "data"} and own and " ".join(" ".join(lines).split()) == own:
        lines[:] = []  # a constant without a comment: not the docstring of its type
    if what in {"attribute", "data", "property"} and lines and ":" in lines[0]:
        lines[0] = ": " + lines[0]


def _public_name(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Link ``sirecommend._private.Name`` (or a bare ``Name``) to ``sirecommend.Name``
    when that is public.

    The public classes live in private modules; signatures name them by their defining
    module, the reference documents them under ``sirecommend``.
    """
    import sirecommend

    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not (
        target.startswith("sirecommend.") or "." not in target
    ):
        return None
    name = target.rsplit(".", 1)[-1]
    if name not in sirecommend.__all__:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], f"sirecommend.{name}", node, contnode
    )
