"""xpath_string over XML a client sends: lxml (libxml2's XPath 1.0), with entities, DTDs and the network
off, so that a document can neither read a file, reach a host nor expand itself."""

from __future__ import annotations

import functools

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
# libxml2's words for a text with no element at all, which Doris (pugixml) reports as below
_NO_ELEMENT = ("Start tag expected", "Document is empty")


@functools.lru_cache(maxsize=256)
def _string_of(path: str) -> etree.XPath:
    """The XPath as its string value: the first node's text for a node-set, XPath's own conversion for a
    number or a boolean (what Doris's evaluate_string answers)."""
    try:
        return etree.XPath(f"string({path})")
    except etree.XPathSyntaxError as exc:
        raise ValueError(f"Function xpath_string failed to parse XPath: {exc}") from None


def xpath_string(xml: str | None, path: str | None) -> str | None:
    """NULL for a NULL argument or an empty text, as Doris answers; Doris's error for a text that is no XML."""
    if not xml or path is None:
        return None
    try:
        root = etree.fromstring(xml.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        reason = "No document element found" if str(exc).startswith(_NO_ELEMENT) else str(exc)
        raise ValueError(f"Function xpath_string failed to parse XML string: {reason}") from None
    try:
        return str(_string_of(path)(root))
    except etree.XPathEvalError as exc:
        raise ValueError(f"Function xpath_string failed to evaluate XPath: {exc}") from None
