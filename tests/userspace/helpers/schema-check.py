#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# schema-check.py SCHEMA DEF [FILE]: the JSON document on stdin (or in FILE) is valid
# against the definition DEF of the JSON schema SCHEMA (Documentation/sealctl-json.schema.json),
# by python3-jsonschema (Debian's; hence /usr/bin/python3). Prints each violation; exit 1
# when there is one, 2 when the schema itself is not a valid draft 2020-12 schema.
# As a tests/vm/run host hook (guest tests call it with host_hook, the document copied to
# /run/seal-vm/hook/), a relative FILE is read from that directory ($SEAL_VM_HOOK_DIR).
import json
import os
import sys

import jsonschema

schema_path, name = sys.argv[1], sys.argv[2]
doc_path = sys.argv[3] if len(sys.argv) > 3 else None
if doc_path and not os.path.isabs(doc_path):
    doc_path = os.path.join(os.environ.get("SEAL_VM_HOOK_DIR", "."), doc_path)
with open(schema_path) as f:
    schema = json.load(f)
try:
    jsonschema.Draft202012Validator.check_schema(schema)
except jsonschema.SchemaError as e:
    print(f"{schema_path}: not a valid schema: {e.message}")
    sys.exit(2)
if name not in schema.get("$defs", {}):
    print(f"{schema_path}: no definition {name}")
    sys.exit(2)
if doc_path:
    with open(doc_path) as f:
        doc = json.load(f)
else:
    doc = json.load(sys.stdin)
check = jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]})
errors = sorted(check.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    where = "/".join(str(p) for p in e.absolute_path) or "(top)"
    print(f"{name}: {where}: {e.message}")
sys.exit(1 if errors else 0)
