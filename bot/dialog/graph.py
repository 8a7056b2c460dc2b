"""Draw a dialog's state diagram for counsellors: SVG/PNG through graphviz when it is
installed, otherwise mermaid text (paste it into any mermaid viewer).

The diagram is built on its own GraphMachine from the same edges the engine runs, labelled
with the button texts and conditions, never on the runtime machine (transitions keeps a
graph per model there).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Literal

from transitions.extensions import GraphMachine

from bot.dialog.machine import edges
from bot.dialog.registry import Registry
from bot.dialog.spec import BEGIN, Call, DialogSpec

IMAGE_FORMATS = {".svg", ".png", ".pdf"}


def graphviz_available() -> bool:
    return importlib.util.find_spec("graphviz") is not None and shutil.which("dot") is not None


def _condition(call: Call) -> str:
    if call.args is None:
        return call.name
    if isinstance(call.args, dict):
        return f"{call.name} " + ", ".join(f"{k} {v}" for k, v in call.args.items())
    return f"{call.name} {call.args}"


def build_graph_machine(spec: DialogSpec, registry: Registry,
                        engine: Literal["graphviz", "mermaid"]) -> GraphMachine:
    # The machine is its own model: it exists only to be drawn.
    machine = GraphMachine( states=[BEGIN, *spec.states], initial=BEGIN,
                           auto_transitions=False, graph_engine=engine,
                           title=spec.title or spec.name, show_conditions=True)
    for edge in edges(spec, registry):
        label = edge.label or edge.trigger
        # Trigger names are only labels here: this machine never runs a trigger.
        machine.add_transition(label, edge.source, edge.dest,
                               conditions=[_condition(edge.when)] if edge.when else None)
    return machine


def render(spec: DialogSpec, registry: Registry, out: Path) -> Path:
    """Write the diagram; returns the file written (.mmd when graphviz is missing)."""
    if out.suffix.lower() in IMAGE_FORMATS and graphviz_available():
        graph = build_graph_machine(spec, registry, "graphviz").get_graph()
        graph.render(outfile=str(out), format=out.suffix[1:].lower(), cleanup=True)
        return out
    graph = build_graph_machine(spec, registry, "mermaid").get_graph()
    target = out if out.suffix.lower() not in IMAGE_FORMATS else out.with_suffix(".mmd")
    target.write_text(graph.draw(None), encoding="utf-8")
    return target
