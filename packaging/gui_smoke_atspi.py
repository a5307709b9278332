#!/usr/bin/env python3
"""What packaging/gui-smoke.sh reads from the running window through the accessibility bus
(AT-SPI, the interface screen readers use), so that the smoke test finds widgets by the text
a person sees and never by coordinates baked into the script.

  gui_smoke_atspi.py find-button TEXT   -> prints "X Y" (screen centre of that push button)
  gui_smoke_atspi.py has-text TEXT      -> exit 0 when a visible text widget of the app shows TEXT
  gui_smoke_atspi.py dump               -> prints the app's accessible tree (for debugging)
"""
import sys
import warnings

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)  # get_text_iface, fine in 2.46

APP = "magpie-desktop"


def app():
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        a = desktop.get_child_at_index(i)
        if a is not None and (a.get_name() or "").lower().startswith(APP):
            return a
    for i in range(desktop.get_child_count()):
        a = desktop.get_child_at_index(i)
        if a is not None and "magpie" in (a.get_name() or "").lower():
            return a
    return None


def walk(node, depth=0, limit=40):
    if node is None or depth > limit:
        return
    yield node, depth
    try:
        n = node.get_child_count()
    except Exception:
        return
    for i in range(n):
        try:
            child = node.get_child_at_index(i)
        except Exception:
            continue
        yield from walk(child, depth + 1, limit)


def showing(node):
    try:
        return node.get_state_set().contains(Atspi.StateType.SHOWING)
    except Exception:
        return False


def text_of(node):
    try:
        t = node.get_text_iface()
        if t is None:
            return ""
        return Atspi.Text.get_text(t, 0, Atspi.Text.get_character_count(t)) or ""
    except Exception:
        return ""


def main():
    root = app()
    if root is None:
        print("no accessible application named %s" % APP, file=sys.stderr)
        return 2
    cmd = sys.argv[1]
    if cmd == "dump":
        for node, depth in walk(root):
            print("%s%s %r %s" % ("  " * depth, node.get_role_name(), node.get_name(), "showing" if showing(node) else ""))
        return 0
    want = sys.argv[2]
    if cmd == "find-button":
        for node, _ in walk(root):
            if node.get_role() == Atspi.Role.PUSH_BUTTON and (node.get_name() or "").replace("&", "") == want and showing(node):
                ext = node.get_extents(Atspi.CoordType.SCREEN)
                print("%d %d" % (ext.x + ext.width // 2, ext.y + ext.height // 2))
                return 0
        print("no showing push button %r" % want, file=sys.stderr)
        return 1
    if cmd == "has-text":
        for node, _ in walk(root):
            if showing(node) and want in text_of(node):
                return 0
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
