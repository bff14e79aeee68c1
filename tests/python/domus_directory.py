"""A labthings server registers its Things into Eclipse Thingweb's Domus TDD API, and a
client finds a Thing there (by id, and by SPARQL through Domus's /search/sparql) and
drives it from the TD that Domus returns.

Usage: python domus_directory.py MICROSCOPE_BINARY
(with the packages of domus_requirements.txt installed: domus-tdd-api 1.0.2, which needs
`node` on PATH, and oxigraph)

What runs, all on 127.0.0.1 and offline:
  * Oxigraph (`oxigraph serve`), the SPARQL store, in a temporary directory;
  * a forwarding SPARQL endpoint inside this script: Domus wants one endpoint URL for
    queries and updates (TDD__SPARQLENDPOINT_URL), Oxigraph serves them at /query and
    /update, so this endpoint sends each request to the right one;
  * Domus (`domus-tdd-api run`), configured by TDD__* environment variables, its node
    given a preload that answers the fetch of the TD 1.0 JSON-LD context from a local
    file (see OFFLINE_CONTEXTS_JS: offline, Domus cannot store a labthings TD without it);
  * the microscope, with `directory` and `directory_ttl` in its configuration, which
    PUTs its three Things into Domus, renews them at ttl/2 and DELETEs them on SIGTERM.

Exits non-zero, saying what was seen, on the first failed check; prints
"all checks passed" at the end. Every process it starts is stopped, and every temporary
directory removed, also on failure.
"""

import http.server
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

TD_TITLE = "https://www.w3.org/2019/wot/td#title"
TTL = 300  # seconds: Domus answers 500 on GET /things once a TD has expired
READY_TIMEOUT = 60.0  # seconds for a process to answer on its port
REGISTER_TIMEOUT = 30.0  # seconds for the microscope's Things to appear in Domus
HERE = os.path.dirname(os.path.abspath(__file__))
MICROSCOPE_TOML = os.path.join(HERE, "..", "..", "examples", "microscope.toml")


class CheckFailed(Exception):
    pass


def check(condition, what, seen):
    if not condition:
        raise CheckFailed(f"{what}; seen: {seen}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_program(name):
    """`name` beside this Python (a venv's bin/), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    if found is None:
        raise CheckFailed(f"{name} not found beside {sys.executable} nor on PATH")
    return found


def request(method, url, body=None, headers=None, timeout=10.0):
    """(status, headers, body bytes); an HTTP error status is returned, not raised."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_json(url, what):
    status, _, body = request("GET", url, headers={"Accept": "application/json"})
    check(status == 200, f"{what}: GET {url} answers 200", f"{status} {body[:2000]!r}")
    try:
        return json.loads(body)
    except ValueError:
        raise CheckFailed(f"{what}: GET {url} is not JSON; seen: {body[:2000]!r}")


def log_tail(path, n=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return data[-n:].decode("utf-8", "replace")


def wait_until_answers(url, proc, log, timeout=READY_TIMEOUT):
    """Poll `url` until any HTTP answer; fail if `proc` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise CheckFailed(
                f"{proc.args[0]} exited ({proc.returncode}) before answering on {url};"
                f" its log:\n{log_tail(log)}"
            )
        try:
            request("GET", url, timeout=2.0)
            return
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        if time.monotonic() > deadline:
            raise CheckFailed(
                f"nothing answered on {url} in {timeout}s; log:\n{log_tail(log)}"
            )
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------
# The forwarding SPARQL endpoint. Domus 1.0.2 (tdd/sparql.py) sends every query as
# POST application/x-www-form-urlencoded `query=...` with Accept "application/json,
# application/ld+json" (or e.g. "application/n-triples" for the CONSTRUCT of a TD),
# and every update as POST form `update=...`. The other SPARQL 1.1 Protocol forms are
# accepted too: GET ?query=, POST application/sparql-query, POST
# application/sparql-update. Bodies are passed on unchanged, with Accept and
# Content-Type; Oxigraph's status, Content-Type and body come back unchanged.


def make_forwarder(oxigraph_base):
    counts = {"query": 0, "update": 0, "rejected": 0}
    lock = threading.Lock()

    class Forwarder(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # quiet
            pass

        def _answer(self, status, content_type, body):
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self, kind, method, path, body=None, content_type=None):
            with lock:
                counts[kind] += 1
            headers = {}
            accept = self.headers.get("Accept")
            if accept:
                headers["Accept"] = accept
            if content_type:
                headers["Content-Type"] = content_type
            try:
                status, resp_headers, resp_body = request(
                    method, oxigraph_base + path, body=body, headers=headers, timeout=60.0
                )
            except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
                self._answer(502, "text/plain", f"Oxigraph unreachable: {e}".encode())
                return
            self._answer(status, resp_headers.get("Content-Type"), resp_body)

        def _reject(self, why):
            with lock:
                counts["rejected"] += 1
            self._answer(400, "text/plain", why.encode())

        def do_GET(self):
            parsed = urllib.parse.urlsplit(self.path)
            if "query" in urllib.parse.parse_qs(parsed.query):
                self._forward("query", "GET", "/query?" + parsed.query)
            else:
                self._reject("GET needs ?query=")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            content_type = self.headers.get("Content-Type", "")
            mime = content_type.split(";")[0].strip().lower()
            if mime == "application/sparql-query":
                self._forward("query", "POST", "/query", body, content_type)
            elif mime == "application/sparql-update":
                self._forward("update", "POST", "/update", body, content_type)
            elif mime == "application/x-www-form-urlencoded":
                form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
                if "update" in form:
                    self._forward("update", "POST", "/update", body, content_type)
                elif "query" in form:
                    self._forward("query", "POST", "/query", body, content_type)
                else:
                    self._reject("a form needs query= or update=")
            else:
                self._reject(f"unsupported Content-Type {content_type!r}")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forwarder)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, counts


# ---------------------------------------------------------------------------------------
# Offline JSON-LD contexts. Domus turns a TD into RDF (and back) with jsonld.js under
# node (tdd/lib/transform-to-nt.js, frame-jsonld.js), which fetches every remote
# @context it meets. Domus swaps two of them for copies in its wheel: the TD 1.1 context
# (https://www.w3.org/2022/wot/td/v1.1, always) and the discovery context (with
# TDD__OVERWRITE_DISCOVERY=true). A labthings TD also names the TD 1.0 context
# (https://www.w3.org/2019/wot/td/v1, before the 1.1 one, as TD 1.1 allows), which
# Domus leaves to jsonld.js: offline, that fetch fails, the PUT still answers 201 with
# an empty graph stored, and GET /things/{id} answers 500. So node gets this preload
# (NODE_OPTIONS=--require), which answers fetches of the mapped URLs with local files
# (the TD 1.0 URL with Domus's own TD 1.1 context document, a superset of 1.0's terms),
# logs each one to stderr, and leaves every other URL to the real fetch.

OFFLINE_CONTEXTS_JS = r"""
const fs = require("fs");
const map = JSON.parse(process.env.DOMUS_OFFLINE_CONTEXTS || "{}");
const realFetch = globalThis.fetch;
globalThis.fetch = async function (input, init) {
  const url = typeof input === "string" ? input : (input && input.url) || String(input);
  const file = map[url] || map[url.replace(/\/$/, "")];
  if (file === undefined) {
    return realFetch(input, init);
  }
  process.stderr.write(`offline context: ${url} <- ${file}\n`);
  return new Response(fs.readFileSync(file), {
    status: 200,
    headers: { "content-type": "application/ld+json" },
  });
};
"""


def offline_contexts(tmp):
    """The environment variables that give Domus's node the preload above."""
    import importlib.util

    spec = importlib.util.find_spec("tdd")
    if spec is None or not spec.submodule_search_locations:
        raise CheckFailed(f"domus-tdd-api's tdd package is not importable by {sys.executable}")
    td11 = os.path.join(list(spec.submodule_search_locations)[0], "data", "fixed-ctx.json")
    check(os.path.isfile(td11), "Domus's wheel has its TD 1.1 context", td11)
    preload = os.path.join(tmp, "offline-contexts.js")
    with open(preload, "w") as f:
        f.write(OFFLINE_CONTEXTS_JS)
    node_options = (os.environ.get("NODE_OPTIONS", "") + f" --require {preload}").strip()
    return {
        "NODE_OPTIONS": node_options,
        "DOMUS_OFFLINE_CONTEXTS": json.dumps({"https://www.w3.org/2019/wot/td/v1": td11}),
    }


# ---------------------------------------------------------------------------------------


def sparql_string(s):
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return '"' + "".join(escapes.get(c, c) for c in s) + '"'


def form_href(affordance, op):
    """The href of the affordance's HTTP form (no subprotocol) for `op`."""
    for form in affordance.get("forms", []):
        ops = form.get("op", [])
        ops = [ops] if isinstance(ops, str) else ops
        if op in ops and "subprotocol" not in form:
            return form["href"]
    raise CheckFailed(f"no HTTP form for {op}; seen: {json.dumps(affordance.get('forms'))}")


def stop(proc, sig=signal.SIGTERM, timeout=15.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    microscope_bin = os.path.abspath(sys.argv[1])
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="domus_directory.")
    oxigraph = domus = microscope = forwarder = None
    log_files = []

    def logfile(name):
        f = open(os.path.join(tmp, name), "wb")
        log_files.append(f)
        return f

    try:
        # 1. Oxigraph, and the forwarding endpoint in front of it.
        ox_port = free_port()
        ox_log = os.path.join(tmp, "oxigraph.log")
        oxigraph = subprocess.Popen(
            [find_program("oxigraph"), "serve",
             "--location", os.path.join(tmp, "oxigraph"), "--bind", f"127.0.0.1:{ox_port}"],
            stdout=logfile("oxigraph.log"), stderr=subprocess.STDOUT,
        )
        ox_base = f"http://127.0.0.1:{ox_port}"
        wait_until_answers(ox_base + "/", oxigraph, ox_log)
        forwarder, counts = make_forwarder(ox_base)
        sparql_url = f"http://127.0.0.1:{forwarder.server_address[1]}/sparql"

        # 2. Domus. Its settings are TDD__<KEY> variables (tdd/config.py); run in an
        # empty directory so that no config.toml (nor .env) is picked up.
        domus_port = free_port()
        domus_url = f"http://127.0.0.1:{domus_port}"
        domus_cwd = os.path.join(tmp, "domus")
        os.mkdir(domus_cwd)
        env = dict(os.environ)
        env.update({
            "TDD__SPARQLENDPOINT_URL": sparql_url,
            "TDD__TD_REPO_URL": domus_url,
            # use the discovery context shipped in the wheel instead of fetching it
            "TDD__OVERWRITE_DISCOVERY": "true",
            # validate each TD against the TD JSON Schema shipped in the wheel
            "TDD__CHECK_SCHEMA": "true",
            "FLASK_SKIP_DOTENV": "1",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(offline_contexts(tmp))
        for key in ("TDD__ENDPOINT_TYPE", "TDD__MAX_TTL", "FLASK_APP", "FLASK_DEBUG"):
            env.pop(key, None)
        domus_log = os.path.join(tmp, "domus.log")
        domus = subprocess.Popen(
            [find_program("domus-tdd-api"), "run", "--host", "127.0.0.1",
             "--port", str(domus_port)],
            cwd=domus_cwd, env=env, stdout=logfile("domus.log"), stderr=subprocess.STDOUT,
        )
        wait_until_answers(domus_url + "/", domus, domus_log)
        status, _, body = request("GET", domus_url + "/")
        check(status == 200, "Domus GET / answers its directory TD",
              f"{status} {body[:500]!r}")

        # 3. The microscope, registering into Domus.
        config = os.path.join(tmp, "microscope.toml")
        with open(MICROSCOPE_TOML) as f:
            original = f.read()
        with open(config, "w") as f:
            f.write(f'directory = "{domus_url}"\ndirectory_ttl = {TTL}\n' + original)
        mic_log = os.path.join(tmp, "microscope.log")
        microscope = subprocess.Popen(
            [microscope_bin, "--port", "0", "--settings", os.path.join(tmp, "settings"),
             "--config", config],
            stdout=subprocess.PIPE, stderr=logfile("microscope.log"),
        )
        out_log = logfile("microscope.out")
        first_line = queue.Queue()

        def read_stdout():
            first_line.put(microscope.stdout.readline())
            shutil.copyfileobj(microscope.stdout, out_log)

        threading.Thread(target=read_stdout, daemon=True).start()
        try:
            first = first_line.get(timeout=READY_TIMEOUT).decode("utf-8", "replace").strip()
        except queue.Empty:
            raise CheckFailed(f"the microscope printed nothing in {READY_TIMEOUT}s")
        prefix = "labthings listening on "
        if not first.startswith(prefix):
            try:
                microscope.wait(10)
            except subprocess.TimeoutExpired:
                pass
            raise CheckFailed(
                "the microscope did not start (does it know `directory`?); first line:"
                f" {first!r}; exit code {microscope.poll()}; stderr:\n{log_tail(mic_log)}"
            )
        base = first[len(prefix):]

        served = {name: get_json(base + name + "/", f"the microscope's {name} TD")
                  for name in ("stage", "camera", "autofocus")}
        ids = {name: td["id"] for name, td in served.items()}
        stage_id = ids["stage"]

        def domus_thing(thing_id):
            return domus_url + "/things/" + urllib.parse.quote(thing_id, safe="")

        # Wait for the registration (the server PUTs right after it starts listening).
        deadline = time.monotonic() + REGISTER_TIMEOUT
        while True:
            missing = [i for i in ids.values() if request("GET", domus_thing(i))[0] != 200]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"not in Domus after {REGISTER_TIMEOUT}s: {missing}; microscope log:\n"
                    f"{log_tail(mic_log)}\nDomus log:\n{log_tail(domus_log)}"
                )
            time.sleep(0.2)
        registered_after = time.monotonic() - started

        # 4a. The stage's TD, by its id.
        td = get_json(domus_thing(stage_id), "Domus GET /things/{id}")
        check(td.get("id") == stage_id, "Domus's TD has the stage's id", td.get("id"))
        title = served["stage"]["title"]
        check(td.get("title") == title, "Domus's TD has the stage's title", td.get("title"))
        # Domus keeps the registration's ttl, but its framing gives it back under the
        # compact IRI "discovery:ttl" rather than the term "ttl".
        reg = td.get("registration", {})
        ttl = reg.get("ttl", reg.get("discovery:ttl"))
        check(ttl == TTL and "expires" in reg,
              f"Domus's TD has the registration's ttl {TTL} and an expiry", reg)
        check("move_to" in td.get("actions", {}), "Domus's TD has the action move_to",
              list(td.get("actions", {})))
        check("position" in td.get("properties", {}), "Domus's TD has the property position",
              list(td.get("properties", {})))

        # 4b. The stage, by its title, through Domus's SPARQL search. Domus keeps each TD
        # in its own named graph (<td:ID>), and Oxigraph's default graph is not the
        # union of the named graphs: so the query names the graph.
        sparql = (
            "SELECT DISTINCT ?id WHERE { GRAPH ?g { "
            f"?id <{TD_TITLE}> ?title . FILTER(str(?title) = {sparql_string(title)}) }} }}"
        )
        url = domus_url + "/search/sparql?" + urllib.parse.urlencode({"query": sparql})
        results = get_json(url, "Domus GET /search/sparql")
        try:
            found = [b["id"]["value"] for b in results["results"]["bindings"]]
        except (KeyError, TypeError):
            raise CheckFailed(f"not SPARQL JSON results; seen: {json.dumps(results)[:2000]}")
        check(found == [stage_id], f"the SPARQL search by title {title!r} finds the stage",
              found)
        # The same query POSTed (Domus takes the body as the query).
        status, _, body = request("POST", domus_url + "/search/sparql", body=sparql.encode(),
                                  headers={"Content-Type": "application/sparql-query"})
        check(status == 200, "Domus POST /search/sparql answers 200",
              f"{status} {body[:500]!r}")
        found_post = [b["id"]["value"] for b in json.loads(body)["results"]["bindings"]]
        check(found_post == [stage_id], "the POSTed SPARQL search finds the stage", found_post)

        # 4c. The listing has the three Things.
        listing = get_json(domus_url + "/things", "Domus GET /things")
        listed = sorted(t.get("id") for t in listing)
        check(listed == sorted(ids.values()), "Domus GET /things lists the three Things",
              listed)

        # 4d. Drive the stage from the TD that Domus returned.
        td_base = td.get("base")
        check(td_base == base, "Domus's TD keeps the server's base", td_base)
        move_to = urllib.parse.urljoin(td_base, form_href(td["actions"]["move_to"],
                                                         "invokeaction"))
        target = {"x": 0, "y": 0, "z": 50}
        status, _, body = request("POST", move_to, body=json.dumps(target).encode(),
                                  headers={"Content-Type": "application/json",
                                           "Accept": "application/json"})
        check(status == 201, f"POST {move_to} answers 201", f"{status} {body[:1000]!r}")
        invocation = json.loads(body)
        href = urllib.parse.urljoin(move_to, invocation["href"])
        deadline = time.monotonic() + 20.0
        while invocation.get("status") not in ("completed", "error", "cancelled"):
            check(time.monotonic() < deadline, "the move completes in 20 s", invocation)
            time.sleep(0.05)
            invocation = get_json(href, "the invocation")
        check(invocation["status"] == "completed", "the move completes", invocation)
        position_url = urllib.parse.urljoin(td_base, form_href(td["properties"]["position"],
                                                              "readproperty"))
        position = get_json(position_url, "the stage's position")
        check(position.get("z") == 50, f"GET {position_url} reads z == 50", position)

        # 5. SIGTERM: the server DELETEs its Things from Domus as it stops.
        microscope.send_signal(signal.SIGTERM)
        try:
            code = microscope.wait(20)
        except subprocess.TimeoutExpired:
            code = "still running after 20 s"
        check(code == 0, "the microscope exits 0 on SIGTERM", f"{code}; {log_tail(mic_log)}")
        for thing_id in ids.values():
            status, _, body = request("GET", domus_thing(thing_id))
            check(status == 404, f"Domus no longer has {thing_id} (404)",
                  f"{status} {body[:300]!r}")
        listing = get_json(domus_url + "/things", "Domus GET /things after the stop")
        check(listing == [], "Domus GET /things is empty after the stop",
              [t.get("id") for t in listing])

        check(counts["rejected"] == 0, "the forwarder rejected no request", counts)
        print(
            f"registered in {registered_after:.1f}s; forwarded {counts['query']} queries and"
            f" {counts['update']} updates; took {time.monotonic() - started:.1f}s"
        )
        print("all checks passed")
    except BaseException:
        for f in log_files:
            f.flush()
        for name in ("oxigraph.log", "domus.log", "microscope.log"):
            tail = log_tail(os.path.join(tmp, name), 3000)
            if tail:
                print(f"--- the end of {name}:\n{tail}", file=sys.stderr)
        raise
    finally:
        stop(microscope)
        stop(domus)
        if forwarder is not None:
            forwarder.shutdown()
            forwarder.server_close()
        stop(oxigraph)
        for f in log_files:
            f.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
