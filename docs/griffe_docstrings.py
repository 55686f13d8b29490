"""A griffe extension for the API reference (mkdocs.yml): the package's docstrings are written
for ``help()`` and doctest, in reST habits; this shows them well on the site, without changing
them. Doctest examples (``>>>`` lines and their output) become Python console code blocks (Markdown
would read ``>>>`` as nested quotes), and Sphinx roles (``:class:`~model.x.Y```) become code (``Y``)."""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`(~?)([^`]+)`")


def _role(m: re.Match) -> str:
    name = m.group(2)
    return f"`{name.rsplit('.', 1)[-1] if m.group(1) else name}`"


def markdown(text: str) -> str:
    """A docstring with its doctest blocks fenced and its Sphinx roles as code."""
    text = _ROLE.sub(_role, text)
    out: list[str] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith(">>>") or (block and line.strip()):
            block.append(line.strip() if not line.lstrip().startswith(">>>") else line.lstrip())
            continue
        if block:
            out += ["```pycon", *block, "```"]
            block = []
        out.append(line)
    return "\n".join(out[:-1])


class DocstringsForTheSite(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
