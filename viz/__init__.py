"""viz: graphviz drawings of tensorgrad's forward and backward graphs (micrograd's draw_dot, for tensors)."""
from .draw import ADJOINTS, Drawing, GraphvizNotFound, draw, draw_dot, render

__all__ = ["ADJOINTS", "Drawing", "GraphvizNotFound", "draw", "draw_dot", "render"]
