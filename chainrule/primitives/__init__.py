"""The primitives of chainrule's IR, each defined once, in the module of its
kind, with its rules side by side: shape rule, NumPy implementation, JVP,
transpose, batch and cost rules.  The rules are written with the vocabulary
of ``_ad.py`` (differentiation), ``_batch.py`` (batching), ``_define.py``
(defining primitives) and ``_ops.py`` (the primitives as functions, looked
up by name, so that no primitive module imports another).

``all_primitives()`` lists them by name.
"""
from ._ops import all_primitives  # noqa: F401
# (in this order, all_primitives() lists them as it always has)
from .elementwise import *  # noqa: F401,F403
from .shapes import *  # noqa: F401,F403
from .cumulative import cumprod_p, cumsum_p  # noqa: F401
from .indexing import (gather_p, normalize_index_p, scatter_add_p,  # noqa: F401
                       scatter_max_p, scatter_min_p, scatter_p)
from .linalg import dot_general_p  # noqa: F401
from .reductions import *  # noqa: F401,F403
from .solvers import slogdet_p, solve_p, triangular_solve_p  # noqa: F401
from .decompositions import cholesky_p, eigh_p, pinv_p, qr_p, svd_p  # noqa: F401
from .sorting import sort_p  # noqa: F401
from .special import (digamma_p, erf_inv_p, erf_p, erfc_p, gamma_p, i0e_p, i1e_p,  # noqa: F401
                      lgamma_p, log_ndtr_p, ndtri_p, polygamma_p, xlog1py_p, xlogy_p)
