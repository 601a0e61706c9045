#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc gen` against fakellm: an OpenAPI 3 document (YAML) with a Makefile project whose
# test imports the generated modules. The plan (types first, one handlers file per
# resource), --plan for JSON Schema and .proto, a first answer with a syntax error sent
# back and corrected, the spec check (every operation has a handler, types defined,
# examples validate), the test pipeline passing; a missing handler fails the check.
set -u
A=${AGENTC:?}
BIN=${AGC_BINARY_DIR:?}
FAKE=${FAKELLM:-$BIN/fakellm}
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY missing"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_gen.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
run() {
    local name=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        bad "$name: exit $rc, want $want"; sed 's/^/  out: /' "$T/out"; sed 's/^/  err: /' "$T/err"; fi
}
has() { if grep -qF -- "$3" "$2"; then ok; else bad "$1: $2 lacks '$3'"; sed 's/^/  | /' "$2"; fi; }
start_fakellm() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    rm -f "$T/port"
    "$FAKE" --script "$1" --port-file "$T/port" >"$T/fakellm.log" 2>&1 &
    FL_PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/port" 2>/dev/null)
    [ -n "$PORT" ] || { bad "fakellm did not start"; cat "$T/fakellm.log"; exit 1; }
    export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
}
export OPENAI_API_KEY=sk-agc-test-0123456789abcdef
unset AGENTC_PROVIDER__MODEL AGENTC_PROVIDER__NAME AGENTC_PROVIDER__BASE_URL

cat >"$T/pets.yaml" <<'X'
openapi: 3.0.3
info: {title: Pets, version: "1.0"}
paths:
  /pets:
    get:
      operationId: listPets
      tags: [pets]
      responses:
        "200":
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
    post:
      operationId: createPet
      tags: [pets]
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewPet"}
            example: {name: Rex}
      responses:
        "201":
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string}
      example: {id: 1, name: Rex}
    NewPet:
      type: object
      required: [name]
      properties:
        name: {type: string}
X
run "usage: no task" 2 "$A" gen "$T/pets.yaml"
run "plan" 0 "$A" gen "$T/pets.yaml" --plan --out gen
has "plan" "$T/out" "openapi 'Pets': 2 types, 2 operations; plan:"
has "plan types first" "$T/out" "1. gen/models.py (types)"
has "plan handlers" "$T/out" "2. gen/pets_handlers.py (handlers: pets)"

printf '{"title":"Cfg","type":"object","properties":{"port":{"type":"integer"}},"$defs":{"Tls":{"type":"object"}}}\n' >"$T/cfg.json"
run "json schema plan" 0 "$A" gen "$T/cfg.json" --plan --lang typescript
has "json schema plan" "$T/out" "jsonschema 'Cfg': 2 types, 0 operations"
printf 'syntax = "proto3";\npackage shop;\nmessage Item { string id = 1; }\nservice Catalog { rpc GetItem (Item) returns (Item); }\n' >"$T/api.proto"
run "proto plan" 0 "$A" gen "$T/api.proto" --plan --lang go
has "proto plan" "$T/out" "proto 'shop': 1 types, 1 operations"
has "proto plan" "$T/out" "2. catalog_handlers.go (handlers: catalog)"
printf 'hello: 1\n' >"$T/bad.yaml"
run "not a spec" 1 "$A" gen "$T/bad.yaml" --plan
has "not a spec" "$T/err" "neither an OpenAPI 3.x document"

# the project: a Makefile whose test imports the generated code
P=$T/proj; mkdir -p "$P/gen"
printf 'test:\n\t%s test_api.py\n' "$PY" >"$P/Makefile"
cat >"$P/test_api.py" <<'X'
from gen.models import Pet, NewPet
from gen.pets_handlers import list_pets, create_pet
p = create_pet(NewPet(name="Rex"))
assert p.name == "Rex", p
assert [x.name for x in list_pets()] == ["Rex"]
print("ok")
X
: >"$P/gen/__init__.py"
python3 - "$T/gen.json" <<'X'
import json, sys
models = "gen/models.py\n```python\nfrom dataclasses import dataclass\n\n@dataclass\nclass Pet:\n    id: int\n    name: str\n\n@dataclass\nclass NewPet:\n    name: str\n```\n"
bad = "gen/pets_handlers.py\n```python\ndef list_pets(:\n    pass\n```\n"
good = ("gen/pets_handlers.py\n```python\nfrom gen.models import Pet, NewPet\n\n_PETS = []\n\n\n"
        "def list_pets():\n    return list(_PETS)\n\n\ndef create_pet(body: NewPet) -> Pet:\n"
        "    pet = Pet(id=len(_PETS) + 1, name=body.name)\n    _PETS.append(pet)\n    return pet\n```\n")
json.dump({"replies": [{"text": models}, {"text": bad}, {"text": good}]}, open(sys.argv[1], "w"))
X
start_fakellm "$T/gen.json"
run "gen" 0 "$A" gen "$T/pets.yaml" --task "a pet store service" --dir "$P" --out gen
has "wrote types" "$T/err" "wrote gen/models.py"
has "syntax error sent back" "$T/err" "retrying"
has "wrote handlers" "$T/err" "wrote gen/pets_handlers.py"
has "spec check" "$T/err" "spec check passed: 2 operations have handlers, 2 types are defined"
has "pipeline" "$T/err" "ALL PASSED"
curl -s "http://127.0.0.1:$PORT/_fake/requests" >"$T/reqs" 2>/dev/null || true
if [ -s "$T/reqs" ]; then
    has "the slice went to the model" "$T/reqs" "create_pet"
    has "the types file went with the handlers" "$T/reqs" "class NewPet"
    has "the syntax error went back" "$T/reqs" "syntax error"
fi

# a handler missing: the spec check fails
P2=$T/proj2; mkdir -p "$P2"
python3 - "$T/gen2.json" <<'X'
import json, sys
models = "models.py\n```python\nclass Pet:\n    pass\n\nclass NewPet:\n    pass\n```\n"
h = "pets_handlers.py\n```python\ndef list_pets():\n    return []\n```\n"
json.dump({"replies": [{"text": models}, {"text": h}]}, open(sys.argv[1], "w"))
X
start_fakellm "$T/gen2.json"
run "missing handler" 1 "$A" gen "$T/pets.yaml" --task "pets" --dir "$P2"
has "missing handler named" "$T/err" "operation POST /pets (createPet): no handler 'create_pet' is defined"

echo "cli code_gen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
