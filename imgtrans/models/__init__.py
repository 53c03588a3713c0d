"""Torch networks and weight loading. NCHW float tensors never leave this package."""
