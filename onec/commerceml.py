"""A streaming reader of CommerceML 2 files (import.xml, offers.xml), any schema version or
namespace, UTF-8 or windows-1251 (the prolog's encoding): lxml iterparse, every element
cleared once read, so a 100,000-product catalog is read in bounded memory."""
from __future__ import annotations

from typing import Iterator

from lxml import etree
from hub.money import MAX_KOPECKS
from onec.common import ru_number


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _child(el, name: str):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _children(el, name: str) -> list:
    return [c for c in el if _local(c.tag) == name]


def _text(el, name: str) -> str | None:
    c = _child(el, name)
    if c is None or c.text is None:
        return None
    return c.text.strip() or None


def _free(el) -> None:
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _events(path: str) -> Iterator[tuple[str, object]]:
    return etree.iterparse(path, events=("start", "end"), resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=True, remove_comments=True)


def read_import(path: str) -> Iterator[tuple[str, dict]]:
    """("group", {"id", "name", "parent"}) for every group of the classifier tree, then
    ("product", {"id", "name", "article", "barcodes", "groups"}) for every product; and
    ("partial", {"value": bool}) when the catalog says СодержитТолькоИзменения."""
    stack: list[str | None] = []          # ids of the Группа elements we are inside
    for event, el in _events(path):
        name = _local(el.tag)
        if event == "start":
            if name == "Группа":
                stack.append(None)
            elif name == "Каталог":
                flag = el.get("СодержитТолькоИзменения")
                if flag is not None:
                    yield "partial", {"value": flag.strip().lower() == "true"}
            continue
        if name == "Группа" and stack:
            stack.pop()
            parent = el.getparent()
            in_product = False
            while parent is not None:
                if _local(parent.tag) == "Товар":
                    in_product = True
                    break
                parent = parent.getparent()
            if in_product:
                continue
            ident = _text(el, "Ид")
            if ident:
                parent_id = next((s for s in reversed(stack) if s), None)
                yield "group", {"id": ident, "name": _text(el, "Наименование") or "", "parent": parent_id}
            _free_group(el)
        elif name == "Ид" and stack and _local(el.getparent().tag) == "Группа":
            stack[-1] = (el.text or "").strip() or None
        elif name == "Товар":
            ident = _text(el, "Ид")
            if ident:
                barcodes = [c.text.strip() for c in _children(el, "Штрихкод") if c.text and c.text.strip()]
                requisites = _child(el, "ЗначенияРеквизитов")
                if requisites is not None:
                    for r in _children(requisites, "ЗначениеРеквизита"):
                        if (_text(r, "Наименование") or "").lower() == "штрихкод" and _text(r, "Значение"):
                            barcodes.append(_text(r, "Значение"))
                groups_el = _child(el, "Группы")
                groups = [c.text.strip() for c in _children(groups_el, "Ид")] if groups_el is not None else []
                yield "product", {"id": ident,
                                  "name": _text(el, "Наименование") or "", "article": _text(el, "Артикул"),
                                  "barcodes": list(dict.fromkeys(barcodes)), "groups": [g for g in groups if g]}
            _free(el)


def _free_group(el) -> None:
    """A group read: its nested groups were read already; keep nothing of it."""
    for c in list(el):
        if _local(c.tag) != "Группы":
            continue
        c.clear()


def _price(value: str) -> int | None:
    """A unit price ("1 500,50", U+00A0 thousands) as kopecks; None when it is not a sane
    non-negative amount (NaN, Infinity, 1e30)."""
    try:
        number = ru_number(value)
    except ValueError:
        return None
    if number is None or number < 0:
        return None
    kopecks = int((number * 100).to_integral_value())
    return kopecks if kopecks <= MAX_KOPECKS else None


def read_offers(path: str) -> Iterator[tuple[str, dict]]:
    """("offer", {"id": product id, "name", "price": kopecks or None}) per Предложение."""
    for event, el in _events(path):
        if event != "end" or _local(el.tag) != "Предложение":
            continue
        ident = _text(el, "Ид")
        price = None
        prices = _child(el, "Цены")
        if prices is not None:
            for p in _children(prices, "Цена"):
                value = _text(p, "ЦенаЗаЕдиницу")
                if value:
                    price = _price(value)
                    break
        if ident:
            yield "offer", {"id": ident.split("#", 1)[0], "name": _text(el, "Наименование") or "", "price": price}
        _free(el)
