"""sdkspec — reads ../shared/spec/zstack-sdk.md (the facts of ZStack's Java SDK) into plain
data: the action rows, the result classes and the inventory/nested classes. test_sdk.py checks
the running suite against every row; nothing here knows any particular action."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def find_spec():
    """The team's zstack-sdk.md itself: $ZS_SHARED_DIR/spec/, else the `shared/` folder beside
    the checkout or beside one of its parents (a CI clone may sit deeper than the main checkout),
    else /work/shared. Raises FileNotFoundError naming every place tried."""
    tried = []
    if os.environ.get("ZS_SHARED_DIR"):
        tried.append(os.path.join(os.environ["ZS_SHARED_DIR"], "spec", "zstack-sdk.md"))
    d = REPO
    while True:
        tried.append(os.path.join(os.path.dirname(d), "shared", "spec", "zstack-sdk.md"))
        if os.path.dirname(d) == d:
            break
        d = os.path.dirname(d)
    tried.append("/work/shared/spec/zstack-sdk.md")
    for path in tried:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError("zstack-sdk.md not found; set ZS_SHARED_DIR. Tried: " + ", ".join(tried))



# Java types a value of which is always serialized (a primitive cannot be null).
PRIMITIVES = {"long", "int", "boolean", "double", "float", "short", "byte", "char"}
# Declared types whose content the SDK keeps as maps: nothing inside is typed by `schema`.
UNTYPED = {"Map", "LinkedHashMap", "Object", "HashMap"}


class Param:
    def __init__(self, name, required, type_, choices):
        self.name, self.required, self.type, self.choices = name, required, type_, choices

    def __repr__(self):
        return "%s%s:%s%s" % (self.name, "*" if self.required else "", self.type, self.choices or "")


class Action:
    def __init__(self, name, method, path, body_key, is_async, session, params, result):
        self.name, self.method, self.path, self.body_key = name, method, path, body_key
        self.is_async, self.session, self.params, self.result = is_async, session, params, result

    def __repr__(self):
        return "%s %s %s" % (self.name, self.method, self.path)


class Klass:
    def __init__(self, name, server, base, fields, enum):
        self.name, self.server, self.base, self.fields, self.enum = name, server, base, fields, enum


def _split_top(text, sep=","):
    """Splits on `sep` outside {...}."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [p.strip() for p in out if p.strip()]


def parse_params(text):
    params = []
    for item in _split_top(text):
        m = re.match(r"^(\w+)(\*)?(?::([\w.]+))?\s*(?:\{([^}]*)\})?$", item)
        if not m:
            raise ValueError("cannot read parameter %r" % item)
        choices = [c.strip() for c in m.group(4).split(",")] if m.group(4) else None
        params.append(Param(m.group(1), bool(m.group(2)), m.group(3) or "String", choices))
    return params


def parse_fields(text):
    """'inventory HostInventory, total Long' -> [(name, type)]."""
    fields = []
    for item in _split_top(text):
        parts = item.split()
        if len(parts) == 2:
            fields.append((parts[0], parts[1]))
    return fields


def simple(java_name):
    return java_name.rsplit(".", 1)[-1]


def load(path=None):
    """Returns (actions, results, classes): actions in file order (rows marked "(not in SDK)"
    left out), results {name: [(field, type)]}, classes {simple name: Klass}."""
    with open(path or find_spec(), encoding="utf-8") as f:
        text = f.read()
    actions, results, classes = [], {}, {}
    section = None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
            continue
        if section == "actions" and line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0] == "SDK action" or "(not in SDK)" in cells[1]:
                continue
            name, method, path, key, is_async, session, params, result = cells[:8]
            actions.append(Action(name, method, path, None if key in ("—", "-", "") else key,
                                  is_async.startswith("yes"), session == "yes", parse_params(params),
                                  result))
        elif section and section.startswith("result classes"):
            m = re.match(r"^- \*\*(\w+)\*\*:(.*)$", line)
            if m:
                results[m.group(1)] = parse_fields(m.group(2))
        elif section and section.startswith("inventory and nested classes"):
            m = re.match(r"^- \*\*(\w+)\*\* \(server class `([\w.]+)`\)(?: extends ([\w.]+))?:(.*)$", line)
            if m:
                body = m.group(4).strip()
                enum = body.startswith("enum:")
                classes[m.group(1)] = Klass(m.group(1), m.group(2), simple(m.group(3)) if m.group(3) else None,
                                            [] if enum else parse_fields(body), enum)
    return actions, results, classes


def all_fields(classes, name):
    """Fields of class `name`, inherited ones included."""
    fields, seen = [], set()
    while name in classes and name not in seen:
        seen.add(name)
        fields = classes[name].fields + fields
        name = classes[name].base
    return fields


def is_a(classes, name, ancestor):
    seen = set()
    while name in classes and name not in seen:
        if name == ancestor:
            return True
        seen.add(name)
        name = classes[name].base
    return False
