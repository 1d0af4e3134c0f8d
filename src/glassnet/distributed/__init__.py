"""Data-parallel training on MPI: ``mpirun -n K glassnet train ...`` or
``fit(..., distributed=True)`` in a script started by ``mpirun -n K``.

K processes each take 1/K of every global mini-batch and average their
gradients with one MPI Allreduce per step (see :mod:`.data_parallel`); the
weights equal the one-process run's up to float32 summation order. Nothing
here imports mpi4py until a world is made, so glassnet without MPI, or outside
``mpirun``, is unchanged.
"""

from .data_parallel import DataParallel, shard_bounds, split_sizes
from .sync_batch_norm import sync_batch_norm
from .world import DistributedError, MPIWorld, active, launched_size, local_size


def from_environment(timeout: float | None = None) -> DataParallel | None:
    """A :class:`DataParallel` over MPI_COMM_WORLD when an MPI launcher started
    this process as one of several; None otherwise (mpi4py is then not imported)."""
    size = launched_size()
    if size == 1:
        return None
    data_parallel = DataParallel(timeout=timeout)
    if size is not None and data_parallel.size != size:
        raise DistributedError(f"the launcher started {size} processes but MPI sees a world of "
                               f"{data_parallel.size}: mpi4py is built against another MPI than the launcher's "
                               f"(srun: pass --mpi=pmix)")
    return None if data_parallel.size == 1 else data_parallel


__all__ = ["DataParallel", "DistributedError", "MPIWorld", "active", "from_environment", "launched_size",
           "local_size", "shard_bounds", "split_sizes", "sync_batch_norm"]
