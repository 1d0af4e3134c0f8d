"""Data: the IDX reader, MNIST/Fashion-MNIST (found, downloaded, md5-checked), mini-batch loading.

``from glassnet.data import load_dataset, DataLoader``::

    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist")  # uint8 (N,28,28), int64 (N,)
    loader = DataLoader((to_float(flatten(x_train)), y_train), batch_size=10, shuffle=True)
    for xb, yb in loader:   # Tensors: float32 (10, 784), int64 (10,)
        ...
"""

from .datasets import DATASETS, DatasetInfo, DatasetNotFoundError, cache_dir, dataset_info, load_dataset, load_split, search_dirs
from .download import DownloadError, download_file
from .idx import read_idx, write_idx
from .loader import DataLoader, TensorDataset, default_collate
from .synthetic import make_blobs, make_circles, make_moons, make_spiral, make_xor
from .transforms import RandomShift, Standardizer, expand_with_shifts, flatten, one_hot, shift_images, to_float, train_val_split
