"""`mevops inspect block` on bad input: exit 2, one `file:line: key: reason` line, no traceback."""

from __future__ import annotations

import json
import re
import socket

import pytest

GOOD_TRACE = {"action": {"from": "0x" + "e0" * 20, "callType": "call", "gas": "0x0", "input": "0x", "to": "0x" + "b0" * 20,
                         "value": "0x0"}, "result": {"gasUsed": "0x0", "output": "0x"}, "subtraces": 0, "trace_address": [],
              "transaction_hash": "0x" + "aa" * 32, "transaction_position": 0, "type": "call", "error": None}


def _doc(**changes) -> dict:
    doc = {"block_number": 7, "traces": [json.loads(json.dumps(GOOD_TRACE))], "receipts": []}
    doc.update(changes)
    return doc


def _fails(result, *fragments: str) -> str:
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err and result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def test_a_good_minimal_block(run, tmp_path):
    path = tmp_path / "block.json"
    path.write_text(json.dumps(_doc()))
    result = run("inspect", "block", str(path), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"block_number": 7, "transactions": 1, "reverted_transactions": [], "arbitrages": [],
                                      "sandwiches": [], "liquidations": [], "swaps": []}
    table = run("inspect", "block", str(path))
    assert table.code == 0 and "block 7: 1 transactions, 0 reverted (skipped), 0 swaps" in table.out


def test_missing_file_and_directory(run, tmp_path):
    _fails(run("inspect", "block", str(tmp_path / "nope.json")), f"error: {tmp_path / 'nope.json'}: no such file")
    _fails(run("inspect", "block", str(tmp_path)), "is a directory")


def test_not_json_names_the_line(run, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "block_number": 1,\n  "traces": [\n    oops\n  ]\n}\n')
    _fails(run("inspect", "block", str(path)), f"{path}:4: not JSON")
    path.write_bytes(bytes(range(256)))
    _fails(run("inspect", "block", str(path)), f"{path}:", "not JSON")
    path.write_text("")
    _fails(run("inspect", "block", str(path)), "not JSON")


@pytest.mark.parametrize(("mutate", "key", "reason"), [
    (lambda d: [d], "", "expected an object, got a list"),
    (lambda d: {**d, "traces": "all of them"}, "traces", "expected a list, got a string"),
    (lambda d: {k: v for k, v in d.items() if k != "traces"}, "traces", "missing"),
    (lambda d: {k: v for k, v in d.items() if k != "block_number"}, "block_number", "missing"),
    (lambda d: {**d, "block_number": "seven"}, "block_number", "expected a number"),
    (lambda d: {**d, "traces": [{**GOOD_TRACE, "action": None}]}, "traces[0].action", "expected an object, got null"),
    (lambda d: {**d, "traces": [{**GOOD_TRACE, "trace_address": [0, "x"]}]}, "traces[0].trace_address",
     "expected a list of integers"),
    (lambda d: {**d, "traces": [{**GOOD_TRACE, "type": None}]}, "traces[0].type", "expected a string"),
    (lambda d: {**d, "traces": [{**GOOD_TRACE, "action": {**GOOD_TRACE["action"], "value": "lots"}}]},
     "traces[0].action.value", "expected a number"),
    (lambda d: {**d, "receipts": [{"transaction_hash": 5}]}, "receipts[0].transaction_hash", "expected a string"),
    (lambda d: {**d, "receipts": [{"transaction_hash": "0x" + "aa" * 32, "logs": [{"address": "0x1", "topics": "x"}]}]},
     "receipts[0].logs[0].topics", "expected a list"),
])
def test_wrong_shape_names_file_line_and_key(run, tmp_path, mutate, key, reason):
    path = tmp_path / "shape.json"
    path.write_text(json.dumps(mutate(_doc()), indent=1))
    line = _fails(run("inspect", "block", str(path)), reason)
    match = re.match(rf"error: {re.escape(str(path))}:(\d+): (.*)$", line)
    assert match, line
    assert match.group(2).startswith(f"{key}: " if key else reason), line
    if key.startswith("traces[0].action"):
        assert int(match.group(1)) > 3  # the line of the offending key, not the top of the file


def test_block_number_needs_rpc_and_rpc_needs_a_number(run, tmp_path):
    _fails(run("inspect", "block", "12345678", cwd=tmp_path), "12345678: no such file", "--rpc URL")
    _fails(run("inspect", "block", "some.json", "--rpc", "http://127.0.0.1:1"), "block number or 'latest'")


def test_unreachable_node(run):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    _fails(run("inspect", "block", "5", "--rpc", f"http://127.0.0.1:{port}"), f"http://127.0.0.1:{port}: rpc: cannot fetch block 5")


class _FakeNode:
    """A JSON-RPC node in a thread: answers what ``methods`` holds, "method not found" otherwise."""

    def __init__(self, methods: dict) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                answer = [node.answer(r) for r in body] if isinstance(body, list) else node.answer(body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.methods, self.seen = methods, []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, request: dict) -> dict:
        self.seen.append(request["method"])
        if request["method"] not in self.methods:
            return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": "Method not found"}}
        return {"jsonrpc": "2.0", "id": request["id"], "result": self.methods[request["method"]](*request["params"])}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_node():
    nodes = []

    def start(methods: dict) -> _FakeNode:
        nodes.append(_FakeNode(methods))
        return nodes[-1]

    yield start
    for node in nodes:
        node.close()


HEADER = {"number": "0x7", "miner": "0x" + "4d" * 20, "transactions": ["0x" + "aa" * 32]}
CAMEL_TRACE = {"action": GOOD_TRACE["action"], "result": GOOD_TRACE["result"], "subtraces": 0, "traceAddress": [],
               "transactionHash": "0x" + "aa" * 32, "transactionPosition": 0, "type": "call"}


def test_node_without_trace_api_is_a_clear_error(run, fake_node):
    node = fake_node({"eth_getBlockByNumber": lambda n, full: HEADER})
    _fails(run("inspect", "block", "7", "--rpc", node.url), "trace_block: Method not found", "no trace API")


def test_receipts_fall_back_to_one_batch_without_eth_getBlockReceipts(run, fake_node):
    receipt = {"transactionHash": "0x" + "aa" * 32, "transactionIndex": "0x0", "status": "0x0", "logs": [],
               "gasUsed": "0x5208", "effectiveGasPrice": "0x1"}
    node = fake_node({"eth_getBlockByNumber": lambda n, full: HEADER, "trace_block": lambda n: [CAMEL_TRACE],
                      "eth_getTransactionReceipt": lambda h: receipt, "eth_blockNumber": lambda: "0x7"})
    result = run("inspect", "block", "latest", "--rpc", node.url, "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["block_number"] == 7 and doc["reverted_transactions"] == ["0x" + "aa" * 32]  # status 0 from the receipt
    assert node.seen == ["eth_blockNumber", "eth_getBlockByNumber", "trace_block", "eth_getBlockReceipts",
                         "eth_getTransactionReceipt"]


def test_node_answering_garbage(run, fake_node):
    node = fake_node({"eth_getBlockByNumber": lambda n, full: HEADER, "trace_block": lambda n: {"not": "a list"},
                      "eth_getBlockReceipts": lambda n: []})
    _fails(run("inspect", "block", "7", "--rpc", node.url), "traces: unexpected answer: expected a list")
