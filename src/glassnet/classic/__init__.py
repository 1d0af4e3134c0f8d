"""The book's code, unchanged to its users: ``from glassnet.classic import network, network2, network3, mnist_loader``.

``network`` is Nielsen's chapter-1 network and ``network2`` its chapter-3
improvement (same API, same numbers for the same seeds, vectorised over the
mini-batch); ``network3`` is the chapter-6 convolutional program, which the book
wrote on Theano, running on glassnet's own ops; ``mnist_loader`` builds the
book's data structures from the MNIST or Fashion-MNIST IDX files.
"""

from . import mnist_loader, network, network2, network3

__all__ = ["mnist_loader", "network", "network2", "network3"]
