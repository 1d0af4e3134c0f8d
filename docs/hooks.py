"""mkdocs hook: the docstrings' Sphinx roles (:func:`x`, :class:`~a.b.C`, …) as plain code.

The docstrings keep reST roles, which read well in ``help()`` and in an editor;
mkdocstrings renders them as literal text (":func:" before the code span). This
hook drops the role and, as Sphinx does, shows only the last dotted part of a
``~``-prefixed target.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj):<code>(~?)([^<]+)</code>")


def _replace(match: re.Match) -> str:
    short, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if short else target}</code>"


def on_page_content(html: str, **kwargs) -> str:
    return _ROLE.sub(_replace, html)
