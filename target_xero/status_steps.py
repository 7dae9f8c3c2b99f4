"""Status steps: a status Xero will not take on create (``VOIDED``) is reached by moving the
written documents through the statuses before it, a step for the whole batch at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xero_api.resources import Resource

from .directory import Directory
from .exchange import Call, Exchange, chunked
from .organisation import RequestRejected
from .outcomes import Outcomes
from .pending import Pending, collection_path, element_messages

__all__ = ["STEP_BATCH", "StatusSteps"]

# Elements per status-step request: an element is only an ID and a status (~70 bytes), so a
# step request can carry more than a document batch and stay far below Xero's 3.5 MB.
STEP_BATCH = 200


class StatusSteps:
    """Moves written documents through their remaining statuses."""

    def __init__(self, exchange: Exchange, directory: Directory, outcomes: Outcomes) -> None:
        """Send through ``exchange``; remember moved documents; reject what fails to move."""
        self._exchange = exchange
        self._dir = directory
        self._outcomes = outcomes

    def follow(self, resource: Resource, items: list[Pending]) -> dict[int, list[str]]:
        """Move written documents through their remaining statuses, step by step: each step of
        up to :data:`STEP_BATCH` documents is one ``POST /{path}`` of ``{ID, Status}`` elements
        (Xero updates elements carrying their ID). Payments (not updatable) take a status only
        as ``POST /Payments/{id}``, one a request. The keys of the writes that moved each
        document, by ``id(item)``; a document whose step fails is rejected and stops there."""
        keys: dict[int, list[str]] = {id(item): [] for item in items}
        active = [item for item in items if item.follow]
        step = 0
        while active:
            groups = _step_groups(resource, [(item, item.follow[step]) for item in active])
            requests = [
                self._step_request(resource, path, params, chunk) for path, params, chunk in groups
            ]
            done: list[Pending] = []
            answers = self._exchange.send(requests)
            for (_, path, _, _, key), (_, _, chunk), answer in zip(
                requests, groups, answers, strict=True
            ):
                moved = self._moved(resource, path, chunk, answer)
                for item in moved:
                    keys[id(item)].append(key)
                done += moved
            step += 1
            active = [item for item in done if len(item.follow) > step]
        return keys

    def _step_request(
        self,
        resource: Resource,
        path: str,
        params: dict[str, str],
        chunk: list[tuple[Pending, str]],
    ) -> Call:
        """The request that moves ``chunk``'s documents to their next statuses."""
        rule = resource.write
        assert rule is not None
        method = rule.status_method
        if rule.status_actions:
            body: Any = {}
        elif method == "PATCH":
            body = {rule.status_field: chunk[0][1]}
        else:
            body = {
                resource.envelope: [
                    {resource.id_field: item.target_id, "Status": s} for item, s in chunk
                ]
            }
        return (method, path, params, body, self._exchange.key(method, path, params, body))

    def _moved(
        self,
        resource: Resource,
        path: str,
        moves: list[tuple[Pending, str]],
        answer: Mapping[str, Any] | RequestRejected,
    ) -> list[Pending]:
        """Settle one status-step request, answer elements matched back by position: a
        failed element rejects its record; the documents moved."""
        if isinstance(answer, RequestRejected):
            # One document: Xero's messages for the request, as ever.
            aligned = len(moves) > 1 and len(answer.elements) == len(moves)
            for index, (item, status) in enumerate(moves):
                messages = element_messages(resource, answer.elements[index]) if aligned else []
                self._failed(item, status, messages or answer.messages)
            return []
        assert resource.write is not None
        key = resource.write.answer_key
        elements = [answer.get(key)] if key else answer.get(resource.envelope)
        if not isinstance(elements, list) or len(elements) != len(moves):
            if len(moves) == 1:  # as ever for one document: no echo, no complaint
                elements = [elements[0] if isinstance(elements, list) and elements else {}]
            else:
                for item, status in moves:
                    self._failed(
                        item,
                        status,
                        [
                            f"Xero's answer to POST {path} did not list one element per "
                            f"document sent (sent {len(moves)}); re-run to reconcile"
                        ],
                    )
                return []
        moved: list[Pending] = []
        for (item, status), element in zip(moves, elements, strict=True):
            messages = element_messages(resource, element) if isinstance(element, dict) else []
            if messages:
                self._failed(item, status, messages)
                continue
            if isinstance(element, dict):
                self._dir.remember(resource, element, source_id=item.source_id)
            moved.append(item)
        return moved

    def _failed(self, item: Pending, status: str, messages: list[str]) -> None:
        self._outcomes.rejected(
            item.stream,
            item.record,
            [f"written as {item.target_id} but not moved to {status}: {m}" for m in messages],
        )


_StepGroup = tuple[str, dict[str, str], list[tuple[Pending, str]]]


def _step_groups(resource: Resource, moves: list[tuple[Pending, str]]) -> list[_StepGroup]:
    """One step's moves as requests: path, parameters and the moves each carries."""
    rule = resource.write
    assert rule is not None
    if rule.status_actions:
        # POST /{path}/{id}/{action} (Payroll UK/NZ timesheets' Approve), no body.
        actions = dict(rule.status_actions)
        return [
            (f"{collection_path(resource, m[0])}/{m[0].target_id}/{actions[m[1]]}", {}, [m])
            for m in moves
        ]
    if not rule.single_object and rule.updatable:
        return [
            (resource.path, {"summarizeErrors": "false"}, chunk)
            for chunk in chunked(moves, STEP_BATCH)
        ]
    return [(f"{collection_path(resource, m[0])}/{m[0].target_id}", {}, [m]) for m in moves]
