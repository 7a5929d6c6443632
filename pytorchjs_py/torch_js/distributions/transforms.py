"""torch.distributions.transforms: every Transform, from _transform_base.py, _transforms_elementwise.py and
_transforms_structured.py."""
from ._transform_base import ComposeTransform, Transform, _InverseTransform, identity_transform  # noqa: F401
from ._transforms_elementwise import (AbsTransform, AffineTransform, CumulativeDistributionTransform, ExpTransform,
                                      PowerTransform, SigmoidTransform, SoftplusTransform, TanhTransform)
from ._transforms_structured import (CatTransform, CorrCholeskyTransform, IndependentTransform,
                                     LowerCholeskyTransform, PositiveDefiniteTransform, ReshapeTransform,
                                     SoftmaxTransform, StackTransform, StickBreakingTransform)

__all__ = ["AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform",
           "SoftplusTransform", "TanhTransform", "SoftmaxTransform", "StackTransform", "StickBreakingTransform",
           "Transform", "identity_transform"]
