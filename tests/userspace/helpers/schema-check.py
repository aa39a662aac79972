#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# schema-check.py SCHEMA DEF: the JSON document on stdin is valid against the definition
# DEF of the JSON schema SCHEMA (Documentation/sealctl-json.schema.json), by
# python3-jsonschema (Debian's; hence /usr/bin/python3). Prints each violation; exit 1
# when there is one, 2 when the schema itself is not a valid draft 2020-12 schema.
import json
import sys

import jsonschema

schema_path, name = sys.argv[1], sys.argv[2]
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
doc = json.load(sys.stdin)
check = jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]})
errors = sorted(check.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    where = "/".join(str(p) for p in e.absolute_path) or "(top)"
    print(f"{name}: {where}: {e.message}")
sys.exit(1 if errors else 0)
