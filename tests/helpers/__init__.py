"""Code the tests share that is not itself a test module: training runs that child processes
(``python -m tests.helpers.<name>``, ``mpirun ... python -m tests.helpers.distributed_runs``) and
several test files need. No test module imports another test module; they import from here or
take a fixture from ``tests/conftest.py``."""
