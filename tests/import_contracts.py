"""An import-linter contract of our own, run by ``make lint``: no two modules of a package
import each other, directly or round a loop, counting a package's ``__init__`` as a module
(the built-in ``acyclic_siblings`` contract sees only cycles between siblings)."""

from __future__ import annotations

from typing import cast

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AcyclicModulesContract(Contract):
    """``packages``: the import graph of each, module by module, has no cycle."""

    type_name = "acyclic_modules"
    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        """Kept when no module of a package reaches itself through the package's imports."""
        cycles: list[list[str]] = []
        for package in cast(list[str], self.packages):
            modules = {package, *graph.find_descendants(package)}
            imports = {
                module: sorted(graph.find_modules_directly_imported_by(module) & modules)
                for module in modules
            }
            cycles += [sorted(c) for c in _strongly_connected(imports) if len(c) > 1]
        return ContractCheck(kept=not cycles, metadata={"cycles": sorted(cycles)})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Each cycle as the modules that import one another round it."""
        for cycle in check.metadata["cycles"]:
            output.print_error("These modules import one another: " + ", ".join(cycle))
            output.new_line()


def _strongly_connected(imports: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, iter(imports[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, pending = work[-1]
            following = next(pending, None)
            if following is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    components.append(component)
            elif following not in index:
                index[following] = low[following] = len(index)
                stack.append(following)
                on_stack.add(following)
                work.append((following, iter(imports[following])))
            elif following in on_stack:
                low[module] = min(low[module], index[following])
    return components
