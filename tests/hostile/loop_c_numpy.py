# ATTACK: a long numeric computation inside numpy/BLAS (C code that holds the
# CPU for seconds per call): repeated 1500x1500 matrix products.
# MUST HAPPEN: status "timeout" at the wall limit; the service stays responsive.
import numpy as np

m = np.random.default_rng(0).random((1500, 1500))
while True:
    m = m @ m
    m /= np.abs(m).max()
