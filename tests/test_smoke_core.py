import numpy as np

import glassnet as gn
import glassnet.functional as F


def test_linear_sigmoid_gradcheck():
    rng = np.random.default_rng(0)
    x = gn.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = gn.Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    b = gn.Tensor(rng.standard_normal(5), requires_grad=True)
    report = gn.gradcheck(lambda x, w, b: F.sigmoid(F.linear(x, w, b)), [x, w, b])
    assert report.max_rel_error < 1e-6, str(report)
