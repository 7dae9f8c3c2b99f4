"""Streamed request bodies (``XeroClient.request(..., upload=Upload...)``): the length sent up
front, every attempt opening the source again from its first byte, a one-shot stream never
sent twice, a source that gives another length stopped; and a file uploaded to a sandbox
attachment over real HTTP, read back equal."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_client_units import make_client, ok
from xero_api import XeroServerError, XeroSettings
from xero_api.client import Upload, XeroClient
from xero_api.exchange import UploadLengthError
from xero_sandbox.launcher import Sandbox


def _file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "scan.pdf"
    path.write_bytes(os.urandom(size))
    return path


def test_a_file_is_sent_with_its_length_and_sent_again_whole_on_a_retry(tmp_path: Path) -> None:
    path = _file(tmp_path, 300_000)
    bodies: list[bytes] = []
    headers: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        headers.append(request.headers)
        return httpx.Response(503) if len(bodies) == 1 else ok({"Attachments": []})

    client = make_client(handler)
    client.request(
        "PUT",
        "Invoices/x/Attachments/scan.pdf",
        "tenant",
        upload=Upload.from_path(path),
        idempotency_key="k-1",
    )
    assert bodies == [path.read_bytes(), path.read_bytes()]
    assert headers[0]["content-length"] == "300000"
    assert "transfer-encoding" not in headers[0]
    assert headers[0]["content-type"] == "application/octet-stream"


def test_a_function_of_fresh_chunks_is_reopened_for_each_attempt() -> None:
    opened: list[int] = []

    def chunks() -> Iterator[bytes]:
        opened.append(1)
        yield b"abc"
        yield b"def"

    answers = iter([httpx.Response(502), httpx.Response(500), ok({})])
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.read())
        return next(answers)

    make_client(handler).request("POST", "p", "t", upload=Upload(6, chunks), idempotency_key="k")
    assert opened == [1, 1, 1]
    assert seen == [b"abcdef"] * 3


def test_a_one_shot_stream_is_never_sent_twice() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.read())
        return httpx.Response(503)

    once = Upload.from_chunks(iter([b"only", b"once"]), 8)
    with pytest.raises(XeroServerError):
        make_client(handler).request("PUT", "p", "t", upload=once, idempotency_key="k")
    assert seen == [b"onlyonce"]
    assert not once.can_resend


def test_a_source_of_another_length_is_stopped_with_a_clear_error(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        return ok({})

    client = make_client(handler)
    with pytest.raises(UploadLengthError, match="gave 5 bytes, not the 9 declared"):
        client.request("PUT", "p", "t", upload=Upload(9, lambda: [b"short"], name="short.txt"))
    with pytest.raises(UploadLengthError, match="gave more than the 4 bytes declared"):
        client.request("PUT", "p", "t", upload=Upload(4, lambda: [b"too", b"long", b"by far"]))


def test_a_file_streams_into_a_sandbox_attachment_and_reads_back_equal(tmp_path: Path) -> None:
    path = _file(tmp_path, 5 * 1024 * 1024 + 17)
    with Sandbox(tenants=1, scale=10) as sb:
        settings = XeroSettings.from_config(
            {
                "auth_mode": "client_credentials",
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "api_url": sb.url,
                "identity_url": sb.url,
                "login_url": sb.url,
            }
        )
        with XeroClient(settings) as client:
            tenant = client.tenant_ids()[0]
            invoice = client.get("Invoices", tenant).records("Invoices")[0]["InvoiceID"]
            path_in_xero = f"Invoices/{invoice}/Attachments/scan.pdf"
            answer = client.request(
                "PUT", path_in_xero, tenant, upload=Upload.from_path(path), idempotency_key="u1"
            )
            assert answer.records("Attachments")[0]["ContentLength"] == path.stat().st_size

            class Digest:
                def __init__(self) -> None:
                    self.hash = hashlib.sha256()

                def reset(self) -> None:
                    self.hash = hashlib.sha256()

                def write(self, chunk: bytes) -> None:
                    self.hash.update(chunk)

            sink = Digest()
            client.download(path_in_xero, tenant, sink)
            assert sink.hash.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
