"""The worked-solution writers: a backward pass (:class:`symderiv.engine.Backward`) turned into
sections of steps. ``steps`` holds the step builders the scalar and the matrix writer share,
``scalar`` and ``matrix`` the two writers, ``diagram`` the computational graph as data, and
``derivation`` the builder of solutions that are derivations rather than graphs."""

from .derivation import SHOW_TERMS, Derivation, combine, shown_number, written_sum
from .diagram import SMALL, build as build_diagram
from .matrix import shown_tensor, solution as matrix_solution
from .scalar import sections as scalar_sections, solution as scalar_solution
from .steps import (fan_out_note, forward_steps, gradient_step, join_notes, local_steps, result_steps, seed_step,
                    shown_node)

__all__ = ["SHOW_TERMS", "SMALL", "Derivation", "build_diagram", "combine", "fan_out_note", "forward_steps",
           "gradient_step", "join_notes", "local_steps", "matrix_solution", "result_steps", "scalar_sections",
           "scalar_solution", "seed_step", "shown_node", "shown_number", "shown_tensor", "written_sum"]
