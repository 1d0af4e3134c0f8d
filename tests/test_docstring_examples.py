"""The ``Examples:`` sections of the docstrings run as doctests: documentation that cannot rot.

Each module listed must hold examples (a module that lost them fails here), and
every example must print what its docstring says.
"""

import doctest
import importlib

import pytest

MODULES = [
    "glassnet.tensor",
    "glassnet.nn.module",
    "glassnet.nn.container",
    "glassnet.nn.linear",
    "glassnet.nn.conv",
    "glassnet.nn.conv1d",
    "glassnet.nn.pooling",
    "glassnet.nn.activation",
    "glassnet.nn.basic",
    "glassnet.nn.normalization",
    "glassnet.nn.embedding",
    "glassnet.nn.loss",
    "glassnet.nn.residual",
    "glassnet.functional.activations",
    "glassnet.functional.linear",
    "glassnet.functional.conv",
    "glassnet.functional.conv1d",
    "glassnet.functional.pooling",
    "glassnet.functional.losses",
    "glassnet.functional.embedding",
    "glassnet.functional.normalization",
    "glassnet.functional.layer_norm",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has no docstring examples"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"


def test_docs_hook_renders_sphinx_roles_as_code():
    """docs/hooks.py: ':func:<code>~a.b.fit</code>' (mkdocstrings' rendering of a reST role) becomes
    '<code>fit</code>'; a role without '~' keeps its whole target; other text is untouched."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("docs_hooks", Path(__file__).parents[1] / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    html = "see :func:<code>~glassnet.train.fit</code> and :class:<code>nn.Linear</code>, not a:<code>b</code>"
    assert hooks.on_page_content(html) == "see <code>fit</code> and <code>nn.Linear</code>, not a:<code>b</code>"
