"""Sparse Jacobians and Hessians: sparsity detection (this part), coloring.

``jacobian_sparsity`` and ``hessian_sparsity`` trace f once at x with index
sets per element (see detect.py); the coloring and compressed evaluation
build on their patterns.
"""
from .detect import hessian_sparsity, jacobian_sparsity

__all__ = ["hessian_sparsity", "jacobian_sparsity"]
