#!/usr/bin/env python3
"""The dependency rule of DESIGN §2, checked on the built library: every library symbol that
an object file of a layer uses must be defined in that layer or in one below it.

A call graph, not only an include graph: `nm` lists what each object defines and what it
leaves undefined, so a call through a declaration copied into the wrong file is caught as
well as an include that reaches up. Usage: layers.py SOURCE_DIR OBJECT_DIR, where OBJECT_DIR
holds one object per source as <OBJECT_DIR>/src/<path>.o (CMake's object library); more
OBJECT_DIRs may follow, each searched in turn (the release build's hooked files)."""
import os
import subprocess
import sys

# Bottom first. A layer may use its own files and those of every layer listed before it
# on its line's right; the cluster layer is three parts, share above memory above member.
ALLOWED = {
    "common": [],
    "fabric": ["common"],
    "alloc": ["common"],
    "arrow": ["common"],
    "ipc": ["arrow", "common"],
    "descriptor": ["arrow", "common", "proto"],
    "rpc": ["common", "proto"],
    "cluster/member": ["rpc", "fabric", "common", "proto"],
    "cluster/memory": ["cluster/member", "alloc", "descriptor", "arrow", "rpc", "fabric",
                       "common", "proto"],
    "cluster/share": ["cluster/memory", "cluster/member", "ipc", "descriptor", "alloc",
                      "arrow", "rpc", "fabric", "common", "proto"],
    "sql": ["arrow", "common"],
    "proto": [],
}


def layer_of(rel):
    parts = rel.split("/")
    if parts[0] == "cluster":
        return "/".join(parts[:2])
    return parts[0]


def main():
    src_dir, obj_dirs = sys.argv[1], sys.argv[2:]
    obj_dir = obj_dirs[0]
    objects = {}
    for root, _, files in os.walk(os.path.join(src_dir, "src")):
        for f in files:
            if not f.endswith(".c"):
                continue
            rel = os.path.relpath(os.path.join(root, f), os.path.join(src_dir, "src"))
            if rel.startswith("tools/"):
                continue
            for d in obj_dirs:
                obj = os.path.join(d, "src", rel + ".o")
                if os.path.exists(obj):  # files of other machines' architectures are not
                    objects[rel] = obj
                    break
    for f in os.listdir(os.path.join(obj_dir, "proto")) if os.path.isdir(
            os.path.join(obj_dir, "proto")) else []:
        if f.endswith(".o"):
            objects["proto/" + f] = os.path.join(obj_dir, "proto", f)
    if len(objects) < 20:
        print(f"layers: only {len(objects)} objects under {obj_dir}: build first")
        return 1
    defined, used = {}, {}
    for rel, obj in objects.items():
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        used[rel] = set()
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBRC":
                defined[f[2]] = rel
            elif len(f) == 2 and f[0] == "U":
                used[rel].add(f[1])
    bad = []
    # The include graph: a quoted include names its layer by its path.
    for root, _, files in os.walk(os.path.join(src_dir, "src")):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, os.path.join(src_dir, "src"))
            if rel.startswith("tools/"):
                continue
            me = layer_of(rel)
            with open(path, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.startswith('#include "') or "/" not in line:
                        continue
                    inc = line.split('"')[1]
                    if inc.startswith("zcpool/"):
                        continue  # the public headers
                    them = layer_of(inc)
                    if them in ALLOWED and them != me and them not in ALLOWED.get(me, []):
                        bad.append(f"{rel}:{n} ({me}) includes {inc} ({them})")
    for rel, names in sorted(used.items()):
        me = layer_of(rel)
        for name in sorted(names):
            at = defined.get(name)
            if at is None:
                continue  # the C library, protobuf-c, libsodium...
            them = layer_of(at)
            if them != me and them not in ALLOWED.get(me, []):
                bad.append(f"{rel} ({me}) uses {name} of {at} ({them})")
    for b in bad:
        print("layers: " + b)
    print(f"layers: {len(objects)} objects, {len(bad)} uses against the rule")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
