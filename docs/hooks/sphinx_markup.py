"""Griffe extension: Sphinx cross-reference roles in docstrings become links in the API reference.

mkdocstrings' ``docstring_style: sphinx`` reads ``:param x:`` fields but leaves roles such as
``:class:`~airflow_provider_chunkup.errors.ChunkupError``` or ``:meth:`get_conn``` as they are. Here each role's
target is resolved the way Sphinx would (in the scope of the documented object: its members, its class, its
module and what that imports, then the package), and replaced by an mkdocs-autorefs link with the role's title
(``~`` keeps the last name; methods and functions get ``()``). A target that names nothing in the package is
logged as a warning, so ``mkdocs build --strict`` fails on a renamed or deleted target; an existing object that
the reference does not render (a private helper) reads as plain code. reST's ``Example::`` before an indented
block becomes ``Example:`` (``Example ::`` drops the marker), as Sphinx renders it.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?P<role>class|meth|func|attr|exc|data|mod|obj|const):`(?P<body>[^`]+)`")
TITLED = re.compile(r"(?P<title>.+?)\s*<(?P<target>[^>]+)>$")
CALLABLE_ROLES = {"meth", "func"}
LITERAL_MARKER = re.compile(r"(?m)^(?P<text>[^\n]*?)(?P<space> ?)::[ \t]*\n(?=[ \t]*\n[ \t]+\S)")


def _literal_blocks(text: str) -> str:
    """reST's ``Example::`` before an indented block: ``Example:`` (the block is already Markdown code)."""
    return LITERAL_MARKER.sub(lambda m: f"{m['text']}:\n" if m["text"].strip() and not m["space"] else
                              (f"{m['text']}\n" if m["text"].strip() else "\n"), text)


def _lookup(collection: griffe.ModulesCollection, path: str) -> griffe.Object | griffe.Alias | None:
    """The object at ``path``, following aliases; a class's inherited members count (``Link.get_link``)."""
    names = path.split(".")
    obj: Any = collection.members.get(names[0])
    try:
        for name in names[1:]:
            if obj is None:
                return None
            if obj.is_alias:
                obj = obj.final_target
            obj = (obj.all_members if obj.is_class else obj.members).get(name)
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return obj


def _candidates(obj: griffe.Object, target: str) -> list[str]:
    """Full paths ``target`` may mean, seen from ``obj``, most specific first."""
    if target.startswith("."):  # relative to the current module's package, as Sphinx's leading dot
        name = target.lstrip(".")
        module = obj.module
        paths = []
        scope: griffe.Object | None = module
        while scope is not None:
            paths.append(f"{scope.path}.{name}")
            scope = scope.parent
        return paths
    first, _, rest = target.partition(".")
    paths = []
    try:
        resolved = obj.resolve(first)
        paths.append(f"{resolved}.{rest}" if rest else resolved)
    except griffe.NameResolutionError:
        pass
    paths.append(target)  # already a full path
    return paths


def _link(obj: griffe.Object, collection: griffe.ModulesCollection, package: str, match: re.Match[str]) -> str:
    role, body = match["role"], match["body"].strip()
    titled = TITLED.match(body)
    title, target = (titled["title"], titled["target"]) if titled else (None, body)
    short = target.startswith("~")
    target = target.lstrip("~")
    if title is None:
        title = target.lstrip(".").rsplit(".", 1)[-1] if short else target.lstrip(".")
        if role in CALLABLE_ROLES:
            title += "()"
    code = f"<code>{title}</code>"
    candidates = _candidates(obj, target)
    for path in candidates:
        if _lookup(collection, path) is not None:
            return f'<autoref identifier="{path}" optional>{code}</autoref>'
    first = target.lstrip(".").split(".", 1)[0]
    resolved_outside = any(path.split(".", 1)[0] not in (package, first) for path in candidates)  # imported
    qualified_outside = "." in target and first != package and first.islower()  # e.g. airflow.sdk.BaseOperator
    if not (resolved_outside or qualified_outside or hasattr(builtins, first)):
        griffe.logger.warning(
            "%s: the docstring's :%s:`%s` names nothing in %s (renamed or removed?)",
            obj.path, role, match["body"], package,
        )
    return code  # outside the package (Airflow, the standard library): shown as code


class SphinxMarkup(griffe.Extension):
    """Turn Sphinx roles into cross-references and reST literal-block markers into Markdown, package-wide."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        collection = loader.modules_collection
        seen: set[int] = set()

        def visit(obj: griffe.Object) -> None:
            if id(obj) in seen:
                return
            seen.add(id(obj))
            if obj.docstring is not None and ":" in obj.docstring.value:
                text = ROLE.sub(lambda m: _link(obj, collection, pkg.name, m), obj.docstring.value)
                obj.docstring.value = _literal_blocks(text)
            for member in obj.members.values():
                if not member.is_alias:
                    visit(member)  # type: ignore[arg-type]

        visit(pkg)
