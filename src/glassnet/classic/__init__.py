"""The book's code, unchanged to its users: ``from glassnet.classic import network2, mnist_loader``.

``network2`` is Nielsen's chapter-3 network (same API, same numbers for the same
seeds, vectorised over the mini-batch); ``mnist_loader`` builds its data
structures from the MNIST or Fashion-MNIST IDX files.
"""

from . import mnist_loader, network2

__all__ = ["mnist_loader", "network2"]
