"""The ``glassnet`` command line: ``glassnet train | evaluate | summary | experiments``."""
