"""What a browser posts from a page: the form controls of some HTML, read as a browser
submits them (inputs with their value, checked boxes, the selected option, textareas;
nothing disabled, no buttons). Shared by the tests of the condition builder and its pages."""

from html.parser import HTMLParser

from django.http import QueryDict


class _Controls(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input":
            kind = a.get("type", "text")
            if "name" not in a or "disabled" in a or kind in ("submit", "button", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = {
                "name": a.get("name"),
                "off": "disabled" in a,
                "chosen": None,
                "first": None,
            }
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and "name" in a and "disabled" not in a:
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            option, self._option = self._option, None
            value = option["value"] if option["value"] is not None else option["text"].strip()
            if self._select["first"] is None:
                self._select["first"] = value
            if option["selected"]:
                self._select["chosen"] = value
        elif tag == "select" and self._select is not None:
            select, self._select = self._select, None
            value = select["chosen"] if select["chosen"] is not None else select["first"]
            if select["name"] and not select["off"] and value is not None:
                self.fields.append((select["name"], value))
        elif tag == "textarea" and self._textarea is not None:
            area, self._textarea = self._textarea, None
            # A browser drops the one newline that may follow <textarea>.
            self.fields.append((area["name"], area["text"].removeprefix("\n")))


def posted(html: str, **extra) -> QueryDict:
    """The form data a browser would post from ``html``, plus ``extra`` fields."""
    parser = _Controls()
    parser.feed(html)
    data = QueryDict(mutable=True)
    for name, value in parser.fields:
        data.appendlist(name, value)
    for name, value in extra.items():
        data[name] = value
    return data
