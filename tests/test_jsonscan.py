"""The JSON follower the local sampler uses to end lists that repeat themselves."""

from __future__ import annotations

from factkit.backends._jsonscan import JsonScanner


def _feed_all(pieces: list[str]) -> tuple[JsonScanner, bool]:
    scanner = JsonScanner()
    ok = True
    for piece in pieces:
        ok = scanner.allows(piece.encode()) and ok
        scanner.feed(piece.encode())
    return scanner, ok


def test_distinct_items_go_on() -> None:
    _, ok = _feed_all(['{"places": [', '"Paris"', ", ", '"Lyon"', ", ", '"Nice"', "]}"])
    assert ok


def test_a_comma_after_a_repeated_item_is_refused_whatever_the_tokenisation() -> None:
    scanner, _ = _feed_all(['{"places": ["Khmer Rouge government", "', "Khmer Rouge", " government", '"'])
    assert not scanner.allows(b", ")  # continuing the list after the repeat
    assert scanner.allows(b"]")  # ending it is fine
    assert scanner.allows(b" ]}")
    # the closing quote and the comma in one token
    scanner, _ = _feed_all(['{"people": ["Ann Lee", "Ann Lee'])
    assert not scanner.allows(b'", "')
    assert scanner.allows(b'"]')


def test_repeats_are_per_list_and_case_insensitive() -> None:
    scanner, ok = _feed_all(['{"people": ["Ann Lee"], "organizations": ["Ann Lee", "', "ann lee", '"'])
    assert ok  # the same name in another list is not a repeat
    assert not scanner.allows(b",")


def test_strings_inside_objects_and_escapes_are_not_list_items() -> None:
    text = '{"facts": [{"kind": "event", "statement": "a \\"quoted\\" word, twice"}, {"kind": "event", "s": [1, 1]}'
    scanner, ok = _feed_all([text])
    assert ok
    assert scanner.allows(b", {")  # objects with equal values are not repeated string items
    assert not scanner.in_string and len(scanner.frames) == 2
