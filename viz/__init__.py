"""viz: graphviz drawings of tensorgrad's forward and backward graphs (micrograd's draw_dot, for tensors),
and walk(loss): a page that steps through the backward walk."""
from .draw import ADJOINTS, Drawing, GraphvizNotFound, draw, draw_dot, render, save
from .walk import Walk, adjoint, walk

__all__ = ["ADJOINTS", "Drawing", "GraphvizNotFound", "Walk", "adjoint", "draw", "draw_dot", "render", "save", "walk"]
