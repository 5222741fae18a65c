"""The primitives of chainrule's IR, each defined once with its rules side by
side (shape rule and NumPy implementation here; JVP, transpose, batch and
cost rules beside them as the later layers add them).

``all_primitives()`` lists them by name.
"""
from ._define import all_primitives
from .cumulative import cumprod_p, cumsum_p  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .indexing import gather_p, scatter_add_p, scatter_max_p, scatter_min_p, scatter_p  # noqa: F401
from .linalg import dot_general_p  # noqa: F401
from .solvers import slogdet_p, solve_p, triangular_solve_p  # noqa: F401
from .decompositions import cholesky_p, eigh_p, pinv_p, qr_p, svd_p  # noqa: F401
from .reductions import *  # noqa: F401,F403
from .shapes import *  # noqa: F401,F403
from .sorting import sort_p  # noqa: F401
